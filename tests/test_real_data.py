"""Slow: the real pipeline with the real packaged model on a subset of the real comments.

Needs ../shared/data/jigsaw-train-15k.csv.gz beside the project (present on the project's
machines and in CI); skipped with that reason elsewhere, and a failure in CI (CI=true).
"""

import gzip
import json

import pandas as pd
import pytest
from conftest import ROOT, make_repo, missing_tool, run, shrunk_params_dict

REAL = ROOT.parent / "shared" / "data" / "jigsaw-train-15k.csv.gz"
ROWS = 2500

pytestmark = pytest.mark.slow


def test_real_subset_through_every_stage(tmp_path):
    if not REAL.is_file():
        missing_tool(f"real data not found at {REAL}")
    subset = tmp_path / "real-subset.csv.gz"
    frame = pd.read_csv(REAL, dtype=str, keep_default_na=False, nrows=ROWS)
    with gzip.open(subset, "wt", encoding="utf-8", newline="") as handle:
        frame.to_csv(handle, index=False)
    params = shrunk_params_dict(ROOT / "unused")
    params["threads"] = 0
    params["fetch"].update(source=str(subset))
    params["balance_split"].update(val_fraction=0.25, test_fraction=0.25, clean_rows=600)
    params["model"].update(name="sentence-transformers/all-MiniLM-L6-v2", max_length=64)
    params["train"].update(epochs=1, lr=1e-4, head_lr=2e-3, max_tokens_per_batch=2048, max_batch_size=64)
    repo = make_repo(tmp_path / "repo", params)
    run(["dvc", "repro"], repo)
    evaluation = json.loads((repo / "metrics" / "eval.json").read_text())
    raw = json.loads((repo / "data" / "raw.meta.json").read_text())
    assert raw["rows"] == ROWS and raw["source"] == str(subset)
    assert evaluation["test"]["rows"] > 500
    # The real pretrained encoder (and the blended baseline) learns real toxicity quickly.
    assert evaluation["test"]["mean_auroc"] > 0.85
    assert evaluation["test"]["toxic"]["auroc"] > 0.9
    card = (repo / "models" / "MODEL_CARD.md").read_text()
    assert raw["sha256"] in card
