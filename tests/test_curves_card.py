"""Evaluation plot files and the model card, from hand-made arrays."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from toxic_tagger import LABELS
from toxic_tagger.evaluate.curves import MAX_POINTS, write_curves
from toxic_tagger.evaluate.metrics import split_report
from toxic_tagger.evaluate.model_card import render_card
from toxic_tagger.model.export import blend_weights


def arrays(n: int = 1000, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = (rng.random((n, 6)) < 0.1).astype(int)
    probs = np.clip(labels * 0.3 + rng.random((n, 6)) * 0.7, 0, 1)
    return labels, probs


def test_curve_files(tmp_path):
    labels, probs = arrays()
    thresholds = np.full(6, 0.5)
    write_curves(tmp_path / "eval", labels, probs, thresholds)
    for j, label in enumerate(LABELS):
        roc = pd.read_csv(tmp_path / "eval" / "roc" / f"{label}.csv")
        assert list(roc.columns) == ["fpr", "tpr"] and len(roc) <= MAX_POINTS
        assert roc["fpr"].is_monotonic_increasing and roc.iloc[-1].tolist() == [1.0, 1.0]
        # the area under the written (thinned) curve is this tag's AUROC, by sklearn
        area = np.trapezoid(roc["tpr"], roc["fpr"])
        assert area == pytest.approx(roc_auc_score(labels[:, j], probs[:, j]), abs=0.005), label
        pr = pd.read_csv(tmp_path / "eval" / "pr" / f"{label}.csv")
        assert pr["recall"].is_monotonic_increasing
        conf = pd.read_csv(tmp_path / "eval" / "confusion" / f"{label}.csv")
        assert conf["actual"].eq("positive").tolist() == (labels[:, j] == 1).tolist()  # row by row, in order
        assert conf["predicted"].eq("positive").tolist() == (probs[:, j] >= thresholds[j]).tolist()
    summary = pd.read_csv(tmp_path / "eval" / "confusion.csv")
    j = LABELS.index("threat")
    predicted = probs[:, j] >= 0.5
    row = summary.set_index("tag").loc["threat"]
    assert row["tp"] == (predicted & (labels[:, j] == 1)).sum()
    assert row["fn"] == (~predicted & (labels[:, j] == 1)).sum()
    assert row[["tp", "fp", "fn", "tn"]].sum() == len(labels)


def test_model_card_has_provenance_metrics_and_limits():
    labels, probs = arrays()
    report = {split: split_report(labels, probs, np.full(6, 0.4), 20, seed=0) for split in ("test", "val")}
    meta = {"base_model": "m", "data_source": "sample", "data_sha256": "ab" * 32, "max_length": 128,
            "params": {"seed": {"seed": 42}, "train": {"lr": 1e-4}}}
    splits = {"train": {"rows": 10}, "val": {"rows": 20}, "test": {"rows": 30},
              "balance": {"clean_rows_used": 5}}
    card = render_card(meta, splits, report, np.zeros(6))
    assert "ab" * 32 in card and "train 10 / val 20 / test 30" in card
    assert "`train.lr`: `0.0001`" in card and "- `seed`: `42`" in card
    assert "thresholds in `toxic_tagger.json` apply to these probabilities" in card
    for label in LABELS:
        assert f"| {label} | {report['test'][label]['auroc']:.3f}" in card
    assert "Known limits" in card and "English only" in card
    assert "The transformer alone" in card  # no blend in meta


def test_model_card_says_how_the_ensemble_combines():
    labels, probs = arrays()
    report = {split: split_report(labels, probs, np.full(6, 0.4), 20, seed=0) for split in ("test", "val")}
    weights = dict(zip(LABELS, (0.0, 0.5, 0.25, 0.75, 0.0, 1.0)))
    meta = {"blend": {"baseline_weight": weights, "baseline": "baseline", "formula": "p = mix"}}
    splits = {"train": {"rows": 10}, "val": {"rows": 20}, "test": {"rows": 30}, "balance": {"clean_rows_used": 5}}
    card = render_card(meta, splits, report, blend_weights(meta))
    assert "transformer + TF-IDF ensemble" in card and "`p = mix`" in card and "`baseline/`" in card
    assert "| threat | 0.75 |" in card and "| identity_hate | 1.00 |" in card
    assert "apply to the blended score" in card
