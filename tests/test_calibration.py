"""Calibration metrics and calibrators on hand-made arrays and synthetic data with known answers."""

import json
import math

import numpy as np
import pytest

from toxic_tagger import LABELS
from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.evaluate.calibration import (
    ECE_BINS, Calibration, brier, choose_calibrator, ece, reliability,
)
from toxic_tagger.evaluate.calibrators import FITTED_KINDS, fit_calibrator, sigmoid
from toxic_tagger.evaluate.metrics import per_tag_auroc


def _logistic_sample(rng: np.random.Generator, n: int, scale: float, bias: float) -> tuple[np.ndarray, np.ndarray]:
    """Raw probs sigmoid(z) whose true probability of a positive is sigmoid(scale * z + bias)."""
    z = rng.normal(0, 2, size=n)
    return (rng.random(n) < sigmoid(scale * z + bias)).astype(int), sigmoid(z)


def test_ece_is_zero_for_perfectly_calibrated_bins():
    labels = np.array([[1], [0], [0], [0], [1], [1], [1], [0]])
    probs = np.array([[0.25]] * 4 + [[0.75]] * 4)  # 1 of 4 and 3 of 4 positive
    assert ece(labels, probs)[0] == pytest.approx(0.0, abs=1e-12)
    assert ece(np.array([[1]]), np.array([[1.0]]))[0] == 0.0  # prob 1.0 falls in the last bin


def test_brier_and_ece_hand_example():
    labels = np.array([[1, 0], [0, 0], [1, 1], [0, 1]])
    probs = np.array([[0.9, 0.5], [0.2, 0.5], [0.6, 0.5], [0.3, 0.5]])
    # tag 0: (0.01 + 0.04 + 0.16 + 0.09) / 4 ; tag 1: every error is 0.5
    assert brier(labels, probs).tolist() == pytest.approx([0.075, 0.25])
    # 2 bins, tag 0: low bin {0.2, 0.3} mean 0.25 vs 0 observed; high bin {0.9, 0.6} mean 0.75 vs 1
    assert ece(labels, probs, bins=2).tolist() == pytest.approx([0.5 * 0.25 + 0.5 * 0.25, 0.0])
    # 15 bins, tag 0: every prob alone in its bin -> mean |p - y| = (0.1 + 0.2 + 0.4 + 0.3) / 4
    assert ece(labels, probs)[0] == pytest.approx(0.25)
    assert ECE_BINS == 15


def test_reliability_bins_hand_example():
    labels = np.array([[1], [0], [1], [0]])
    probs = np.array([[0.9], [0.2], [0.6], [0.3]])
    (tag,) = reliability(labels, probs, bins=2)
    assert tag["bin"].tolist() == [0, 1]
    assert tag["count"].tolist() == [2, 2]
    assert tag["mean_predicted"].tolist() == pytest.approx([0.25, 0.75])
    assert tag["observed"].tolist() == pytest.approx([0.0, 1.0])
    (sparse,) = reliability(labels, probs, bins=10)  # empty bins are left out
    assert sparse["bin"].tolist() == [2, 3, 6, 9]
    assert reliability(np.array([[1]]), np.array([[1.0]]))[0]["bin"].tolist() == [ECE_BINS - 1]


def test_metrics_reject_bad_arrays():
    with pytest.raises(ToxicTaggerError, match="within"):
        brier(np.array([[1]]), np.array([[1.5]]))
    with pytest.raises(ToxicTaggerError, match="0/1"):
        ece(np.array([[2]]), np.array([[0.5]]))
    with pytest.raises(ToxicTaggerError, match="shape|both"):
        brier(np.zeros((3, 2)), np.zeros((3, 1)))


def test_platt_and_temperature_recover_known_parameters():
    rng = np.random.default_rng(0)
    labels, probs = _logistic_sample(rng, 40_000, scale=0.5, bias=-1.0)
    platt = fit_calibrator(labels, probs, "platt")
    assert platt.scale == pytest.approx(0.5, abs=0.03)
    assert platt.bias == pytest.approx(-1.0, abs=0.05)
    labels, probs = _logistic_sample(rng, 40_000, scale=0.4, bias=0.0)
    temperature = fit_calibrator(labels, probs, "temperature")
    assert temperature.scale == pytest.approx(0.4, abs=0.03) and temperature.bias == 0.0


def test_backwards_scores_get_a_flat_map_not_a_reversed_one():
    labels = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    probs = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.8, 0.9, 0.95])
    platt = fit_calibrator(labels, probs, "platt")
    assert platt.scale == 0.0
    assert platt.apply(probs) == pytest.approx(np.full(8, 3 / 8))  # the base rate


def _overconfident(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Six tags whose raw scores are 3x too sharp and too high: truth is sigmoid(z / 3 - 1)."""
    columns = [_logistic_sample(rng, n, scale=1 / 3, bias=-1.0) for _ in LABELS]
    return np.column_stack([c[0] for c in columns]), np.column_stack([c[1] for c in columns])


def test_calibration_reduces_ece_of_overconfident_scores_on_new_data():
    rng = np.random.default_rng(1)
    calibration = choose_calibrator(*_overconfident(rng, 4000), seed=0)
    labels, probs = _overconfident(rng, 4000)
    before, after = ece(labels, probs), ece(labels, calibration.apply(probs))
    assert (before > 0.15).all()
    assert (after < before / 4).all(), (before, after)
    assert (brier(labels, calibration.apply(probs)) < brier(labels, probs)).all()


def test_choice_is_the_lowest_cross_fitted_brier_and_is_seeded():
    rng = np.random.default_rng(2)
    labels, probs = _overconfident(rng, 3000)
    # tag 1: a step the logistic forms cannot follow -> isotonic should win there
    labels[:, 1] = rng.random(3000) < np.where(probs[:, 1] < 0.5, 0.05, 0.6)
    chosen = choose_calibrator(labels, probs, seed=3)
    for tag in chosen.tags:
        scores = dict(tag.cv_brier)
        assert set(scores) == set(FITTED_KINDS) and tag.kind == min(scores, key=scores.get)
        assert scores["platt"] < scores["temperature"]  # every tag here needs a bias
    assert chosen.tags[1].kind == "isotonic"
    assert choose_calibrator(labels, probs, seed=3) == chosen


def test_tag_with_too_few_positives_stays_uncalibrated():
    rng = np.random.default_rng(3)
    labels, probs = _overconfident(rng, 500)
    labels[:, 3] = 0
    labels[:4, 3] = 1  # 4 positives < 5 folds
    calibration = choose_calibrator(labels, probs, seed=0)
    assert calibration.tags[3].kind == "none"
    assert calibration.apply(probs)[:, 3].tolist() == probs[:, 3].tolist()


@pytest.mark.parametrize("kind", FITTED_KINDS)
def test_apply_is_monotone_finite_and_within_unit_interval(kind):
    rng = np.random.default_rng(4)
    labels, probs = _logistic_sample(rng, 2000, scale=0.5, bias=-1.0)
    calibrator = fit_calibrator(labels, probs, kind)
    grid = np.r_[0.0, np.sort(rng.random(5000)), 1.0]
    out = calibrator.apply(grid)
    assert np.isfinite(out).all() and (out >= 0).all() and (out <= 1).all()
    assert (np.diff(out) > 0).all()  # strictly: no new ties between distinct raw scores


@pytest.mark.parametrize("kind", FITTED_KINDS)
def test_auroc_on_fitting_data_is_kept(kind):
    rng = np.random.default_rng(5)
    labels, probs = _logistic_sample(rng, 3000, scale=0.7, bias=-0.5)
    out = fit_calibrator(labels, probs, kind).apply(probs)
    before, after = per_tag_auroc(labels[:, None], probs[:, None]), per_tag_auroc(labels[:, None], out[:, None])
    assert abs(after[0] - before[0]) <= 1e-9
    order = np.argsort(probs)
    assert (np.diff(out[order]) >= 0).all()  # rank order never reversed


def test_isotonic_without_tie_mix_creates_ties():
    """Why ISOTONIC_TIE_MIX exists: plain isotonic regression pools distinct scores into steps."""
    rng = np.random.default_rng(6)
    labels, probs = _logistic_sample(rng, 1000, scale=0.7, bias=-0.5)
    assert len(np.unique(fit_calibrator(labels, probs, "isotonic", tie_mix=0.0).apply(probs))) < 100
    assert len(np.unique(fit_calibrator(labels, probs, "isotonic").apply(probs))) == len(np.unique(probs))


def test_json_round_trip_is_equal():
    rng = np.random.default_rng(7)
    labels, probs = _overconfident(rng, 2000)
    labels[:, 1] = rng.random(2000) < np.where(probs[:, 1] < 0.5, 0.05, 0.6)
    calibration = choose_calibrator(labels, probs, seed=0, kinds=("none", *FITTED_KINDS))
    assert {t.kind for t in calibration.tags} >= {"platt", "isotonic"}
    loaded = Calibration.from_json(json.loads(json.dumps(calibration.to_json())))
    assert loaded == calibration
    assert loaded.apply(probs).tolist() == calibration.apply(probs).tolist()
    identity = Calibration.identity()
    assert Calibration.from_json(json.loads(json.dumps(identity.to_json()))) == identity
    assert identity.apply(probs).tolist() == probs.tolist()


def _valid_json() -> dict:
    data = Calibration.identity().to_json()
    data["tags"][0] = {"tag": "toxic", "kind": "platt", "scale": 0.5, "bias": -1.0}
    data["tags"][1] = {"tag": "severe_toxic", "kind": "isotonic", "x": [0.0, 0.5, 1.0], "y": [0.0, 0.2, 1.0]}
    return data


@pytest.mark.parametrize("tag, change, message", [
    (0, {"scale": math.nan}, "'scale' must be a finite number"),
    (0, {"bias": math.inf}, "'bias' must be a finite number"),
    (0, {"scale": -1.0}, "'scale' must be >= 0"),
    (0, {"kind": "beta"}, "unknown kind 'beta'"),
    (0, {"extra": 1}, "needs exactly the keys"),
    (1, {"x": [0.0, 0.7, 0.5]}, "'x' must be strictly increasing"),
    (1, {"x": [0.0, 0.5, 0.5]}, "'x' must be strictly increasing"),
    (1, {"y": [0.0, 0.3, 0.2]}, "'y' must be non-decreasing"),
    (1, {"y": [0.0, 0.3, 1.2]}, "'y' must be non-decreasing within"),
    (1, {"y": [0.0, math.nan, 1.0]}, "finite numbers"),
    (1, {"y": [0.0, 1.0]}, "equal, non-zero length"),
    (1, {"tag": "threat"}, "entry 1 is 'threat', expected tag 'severe_toxic'"),
])
def test_from_json_rejects_bad_entries(tag, change, message):
    data = _valid_json()
    Calibration.from_json(data)  # the unchanged document is valid
    data["tags"][tag].update(change)
    with pytest.raises(ToxicTaggerError, match=message.replace("(", r"\(")):
        Calibration.from_json(data)


def test_from_json_rejects_wrong_document_shape():
    with pytest.raises(ToxicTaggerError, match="version 2"):
        Calibration.from_json({**_valid_json(), "version": 2})
    with pytest.raises(ToxicTaggerError, match="6 entries"):
        Calibration.from_json({**_valid_json(), "tags": _valid_json()["tags"][:5]})
    with pytest.raises(ToxicTaggerError, match="exactly the keys"):
        Calibration.from_json([])


def test_apply_rejects_wrong_shape_and_nan():
    with pytest.raises(ToxicTaggerError, match="finite"):
        Calibration.identity().apply(np.full((2, 6), np.nan))
    with pytest.raises(ToxicTaggerError, match=r"\(n, 6\)"):
        Calibration.identity().apply(np.zeros((2, 5)))
