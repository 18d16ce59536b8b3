"""Metrics and threshold tuning on hand-made arrays with known answers."""

import numpy as np
import pytest

from toxic_tagger import LABELS
from toxic_tagger.evaluate.metrics import bootstrap_tag, per_tag_auroc, prf, split_report, tune_thresholds


def test_auroc_known_values():
    labels = np.array([[1], [1], [0], [0]])
    probs = np.array([[0.9], [0.4], [0.5], [0.1]])
    assert per_tag_auroc(labels, probs)[0] == pytest.approx(0.75)  # 3 of 4 pairs ordered
    assert np.isnan(per_tag_auroc(np.zeros((3, 1)), np.ones((3, 1)))[0])


def test_prf_known_values():
    labels = np.array([[1, 0], [1, 1], [0, 0], [0, 1]])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.2], [0.1, 0.9]])
    out = prf(labels, probs, np.array([0.5, 0.5]))
    # tag 0: tp=1 fp=1 fn=1 -> P=R=F1=0.5 ; tag 1: tp=2 -> 1.0
    assert out["precision"].tolist() == [0.5, 1.0]
    assert out["recall"].tolist() == [0.5, 1.0]
    assert out["f1"].tolist() == pytest.approx([0.5, 1.0])
    assert out["macro_f1"] == pytest.approx(0.75)
    assert out["micro_f1"] == pytest.approx(2 * 3 / (2 * 3 + 1 + 1))


def test_tuned_threshold_maximises_f1():
    labels = np.array([[0], [0], [1], [1], [0], [1]])
    probs = np.array([[0.1], [0.2], [0.3], [0.35], [0.4], [0.9]])
    t = tune_thresholds(labels, probs)
    assert t[0] == pytest.approx(0.3)  # F1 = 6/7 there; 0.5 would give 0.5
    assert prf(labels, probs, t)["f1"][0] == pytest.approx(6 / 7)


def test_bootstrap_interval_brackets_point_and_keeps_positives():
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(5), np.zeros(500)]
    probs = np.r_[rng.uniform(0.5, 1, 5), rng.uniform(0, 0.7, 500)]
    point = per_tag_auroc(labels[:, None], probs[:, None])[0]
    ci = bootstrap_tag(labels, probs, 0.6, 400, np.random.default_rng(1))
    low, high = ci["auroc"]
    assert low <= point <= high < 1.0 + 1e-9
    perfect = bootstrap_tag(labels, np.r_[np.ones(5), np.zeros(500)], 0.5, 50, np.random.default_rng(1))
    assert perfect["auroc"] == (1.0, 1.0) and perfect["f1"] == (1.0, 1.0)


def test_bootstrap_auroc_matches_sklearn_on_weights():
    # With all weights 1 (one "resample" equal to the data), the fast AUROC is the exact one.
    rng = np.random.default_rng(4)
    labels = (rng.random(300) < 0.2).astype(int)
    probs = np.round(rng.random(300), 2)  # ties on purpose
    point = per_tag_auroc(labels[:, None], probs[:, None])[0]
    samples = bootstrap_tag(labels, probs, 0.5, 2000, np.random.default_rng(2))["auroc"]
    assert samples[0] < point < samples[1]


def test_split_report_schema():
    rng = np.random.default_rng(0)
    labels = (rng.random((200, 6)) < 0.2).astype(int)
    probs = rng.random((200, 6))
    report = split_report(labels, probs, np.full(6, 0.5), 20, seed=0)
    assert set(LABELS) <= set(report)
    assert {"mean_auroc", "micro_f1", "macro_f1", "rows", "at_0_5"} <= set(report)
    assert {"auroc", "auroc_ci95_low", "precision", "recall", "f1", "support", "threshold"} <= set(report["toxic"])
