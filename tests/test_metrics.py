"""Metrics and threshold tuning on hand-made arrays with known answers."""

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

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
    assert low < point < high  # overlapping scores: resamples differ, and the interval is not a point
    perfect = bootstrap_tag(labels, np.r_[np.ones(5), np.zeros(500)], 0.5, 50, np.random.default_rng(1))
    assert perfect["auroc"] == (1.0, 1.0) and perfect["f1"] == (1.0, 1.0)


class EveryRowOnce:
    """A stand-in generator whose every "resample" is the data itself (all weights 1)."""

    def multinomial(self, n, pvals, size):
        return np.ones((size, n), dtype=int)


def test_bootstrap_auroc_matches_sklearn_on_weights():
    # With all weights 1 (each "resample" equal to the data), the fast weighted AUROC and F1
    # are the exact ones: sklearn's, ties included.
    rng = np.random.default_rng(4)
    labels = (rng.random(300) < 0.2).astype(int)
    probs = np.round(rng.random(300), 2)  # ties on purpose
    ci = bootstrap_tag(labels, probs, 0.5, 3, EveryRowOnce())
    assert ci["auroc"] == pytest.approx((roc_auc_score(labels, probs),) * 2, abs=1e-12)
    assert ci["f1"] == pytest.approx((f1_score(labels, probs >= 0.5),) * 2, abs=1e-12)
    samples = bootstrap_tag(labels, probs, 0.5, 2000, np.random.default_rng(2))["auroc"]
    assert samples[0] < roc_auc_score(labels, probs) < samples[1]


def test_split_report_schema_and_values_match_sklearn():
    rng = np.random.default_rng(0)
    labels = (rng.random((200, 6)) < 0.2).astype(int)
    probs = np.clip(labels * 0.3 + rng.random((200, 6)), 0, 1)
    thresholds = np.linspace(0.3, 0.8, 6)
    report = split_report(labels, probs, thresholds, 20, seed=0)
    assert {"mean_auroc", "micro_f1", "macro_f1", "rows", "at_0_5"} <= set(report)
    predicted = probs >= thresholds
    assert report["rows"] == 200
    assert report["micro_f1"] == pytest.approx(f1_score(labels, predicted, average="micro"), abs=1e-6)
    assert report["macro_f1"] == pytest.approx(f1_score(labels, predicted, average="macro"), abs=1e-6)
    assert report["at_0_5"]["micro_f1"] == pytest.approx(f1_score(labels, probs >= 0.5, average="micro"), abs=1e-6)
    aurocs = [roc_auc_score(labels[:, j], probs[:, j]) for j in range(6)]
    assert report["mean_auroc"] == pytest.approx(np.mean(aurocs), abs=1e-6)
    for j, label in enumerate(LABELS):  # each tag's entry is that tag's, at its own threshold
        tag = report[label]
        assert tag["auroc"] == pytest.approx(aurocs[j], abs=1e-6) and tag["support"] == labels[:, j].sum()
        assert tag["threshold"] == pytest.approx(thresholds[j])
        assert tag["precision"] == pytest.approx(precision_score(labels[:, j], predicted[:, j]), abs=1e-6)
        assert tag["recall"] == pytest.approx(recall_score(labels[:, j], predicted[:, j]), abs=1e-6)
        assert tag["auroc_ci95_low"] <= tag["auroc"] <= tag["auroc_ci95_high"]
