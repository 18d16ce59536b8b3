"""`toxic-tagger predict`: JSON lines for arguments, CSV in/out, one-line errors."""

import json
import subprocess
import sys

import pandas as pd

from toxic_tagger import LABELS

from conftest import FIXTURE_CSV


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toxic_tagger.cli", *args], input=stdin,
                          capture_output=True, text=True)


def test_predict_arguments_as_json_lines(tiny_export):
    paths, _, _ = tiny_export
    result = cli("predict", "--model", str(paths.model), "you idiot", "thanks for the fix")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in records] == ["you idiot", "thanks for the fix"]
    assert all(0.0 <= r[label] <= 1.0 for r in records for label in LABELS)
    assert all(set(r["tags"]) <= set(LABELS) for r in records)


def test_predict_csv_keeps_ids_and_order(tiny_export, tmp_path):
    paths, _, _ = tiny_export
    out = tmp_path / "tags.csv"
    result = cli("predict", "--model", str(paths.model), "--input", str(FIXTURE_CSV), "--output", str(out))
    assert result.returncode == 0, result.stderr
    scored = pd.read_csv(out, dtype={"id": str})
    assert scored["id"].tolist() == pd.read_csv(FIXTURE_CSV, dtype=str)["id"].tolist()
    assert list(scored.columns) == ["id", "comment_text", *LABELS, "tags"]


def test_predict_errors_are_one_line(tiny_export, tmp_path):
    paths, _, _ = tiny_export
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text\n1,hello\n")
    result = cli("predict", "--model", str(paths.model), "--input", str(bad))
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {bad}: row 1, column 'comment_text': required column missing"
    missing = cli("predict", "--model", str(tmp_path / "nothing"), "hi")
    assert missing.returncode == 1 and "not an exported toxic-tagger model" in missing.stderr


def test_table_prints_per_tag_rows(tmp_path):
    import numpy as np

    from toxic_tagger.metrics import split_report

    rng = np.random.default_rng(0)
    labels = (rng.random((300, 6)) < 0.2).astype(int)
    report = {"test": split_report(labels, rng.random((300, 6)), np.full(6, 0.5), 10, seed=0)}
    path = tmp_path / "eval.json"
    path.write_text(json.dumps(report))
    result = cli("table", str(path))
    assert result.returncode == 0, result.stderr
    assert all(f"| {label} | " in result.stdout for label in LABELS)
    missing = cli("table", str(tmp_path / "none.json"))
    assert missing.returncode == 1 and missing.stderr.startswith("error: ")
