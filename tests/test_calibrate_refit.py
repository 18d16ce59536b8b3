"""The train stage's calibration, head_tail truncation and refit on train + val (transformer and
blended baseline), on the tiny BERT and a small synthetic sample (slow: it trains twice). The
val split is large enough for the `toxic` tag to get a fitted calibrator (5 positives and 5
negatives at least)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import replace, shrunk_params_dict

from toxic_tagger import LABELS, TEXT_COLUMN
from toxic_tagger.config import load_params
from toxic_tagger.data.comments_csv import label_matrix
from toxic_tagger.data.split import make_splits
from toxic_tagger.data.synthetic import generate_sample
from toxic_tagger.evaluate.calibration import Calibration
from toxic_tagger.evaluate.metrics import per_tag_auroc, tune_thresholds
from toxic_tagger.model.baseline import fit_baseline, save_baseline, to_model, train_baseline
from toxic_tagger.model.export import load_exported
from toxic_tagger.model.training import TrainPaths, fit_and_export
from toxic_tagger.predict.torch_runtime import predict_exported

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fits(tmp_path_factory, tiny_model_dir):
    """Two fits of the same params and rows: without and with train.refit_on_val."""
    tmp = tmp_path_factory.mktemp("calibrate")
    sections = {"balance_split": {"val_fraction": 0.3, "test_fraction": 0.1, "clean_rows": 150},
                "model": {"truncation": "head_tail", "head_tokens": 8, "max_length": 32},
                "train": {"epochs": 2, "baseline_weight": 0.3}}
    (tmp / "params.yaml").write_text(yaml.safe_dump(shrunk_params_dict(tiny_model_dir, **sections)))
    params = load_params(tmp / "params.yaml")
    splits = make_splits(generate_sample(700, 3), params.balance_split, params.seed)
    save_baseline(tmp / "baseline", train_baseline(splits.train, splits.val, params.baseline, params.seed))
    runs = {}
    for refit in (False, True):
        run_params = replace(params, "train", refit_on_val=refit)
        folder = tmp / f"refit-{refit}"
        paths = TrainPaths(folder / "checkpoints", folder / "logs", folder / "live", folder / "model")
        summary = fit_and_export(run_params, splits.train, splits.val, paths, tmp, {"data_sha256": "x"},
                                 baseline_dir=tmp / "baseline")
        runs[refit] = (paths, summary)
    return params, splits, runs


def test_thresholds_are_tuned_on_the_calibrated_val_scores_prediction_emits(fits):
    _, splits, runs = fits
    paths, summary = runs[False]
    exported = load_exported(paths.model)
    meta = json.loads((paths.model / "toxic_tagger.json").read_text())
    assert meta["truncation"] == "head_tail" and meta["head_tokens"] == 8 and "refit_on_val" not in meta
    assert summary["calibration_per_tag"] == exported.calibration.kinds() and "refit_on_val" not in summary
    assert exported.calibration.kinds()["toxic"] != "none"  # fitted where val has the rows for it
    labels, texts = label_matrix(splits.val), splits.val[TEXT_COLUMN].tolist()
    # prediction tokenizes val as training did (head_tail), so it reproduces the val scores
    final = predict_exported(exported, texts, 4096, progress=False)
    np.testing.assert_allclose(exported.thresholds, tune_thresholds(labels, final), atol=1e-6)
    raw = predict_exported(exported, texts, 4096, progress=False, calibrated=False)
    assert not np.allclose(final[:, 0], raw[:, 0])
    np.testing.assert_allclose(per_tag_auroc(labels, final), per_tag_auroc(labels, raw), atol=1e-9)  # monotone


def test_refit_trains_on_train_and_val_and_keeps_what_val_chose(fits):
    params, splits, runs = fits
    (first, first_summary), (paths, summary) = runs[False], runs[True]
    meta = json.loads((paths.model / "toxic_tagger.json").read_text())
    epochs = first_summary["best_epoch"] + 1
    rows = pd.concat([splits.train, splits.val], ignore_index=True)
    assert meta["refit_on_val"] == {"epochs": epochs, "rows": len(rows), "baseline": True}
    assert summary["refit_on_val"]["epochs"] == epochs and summary["refit_on_val"]["seconds"] > 0
    refit, chosen = load_exported(paths.model), load_exported(first.model)
    # the same first fit chose the same calibration and thresholds; the exported weights differ
    assert refit.calibration == chosen.calibration
    np.testing.assert_array_equal(refit.thresholds, chosen.thresholds)
    weights = [dict(m.named_parameters())["classifier.weight"].detach().numpy() for m in (refit.model, chosen.model)]
    assert not np.allclose(*weights)
    # the blended baseline was refitted on the same rows, with the stage's thresholds
    expected = fit_baseline(rows[TEXT_COLUMN].tolist(), label_matrix(rows), params.baseline, params.seed)
    np.testing.assert_allclose(refit.baseline.coef, to_model(expected, chosen.baseline.thresholds).coef, atol=1e-12)
    assert refit.baseline.coef.shape != chosen.baseline.coef.shape or not np.allclose(refit.baseline.coef,
                                                                                       chosen.baseline.coef)
    np.testing.assert_array_equal(refit.baseline_weight, chosen.baseline_weight)
    probs = predict_exported(refit, splits.test[TEXT_COLUMN].tolist(), 4096, progress=False)
    assert probs.shape == (len(splits.test), len(LABELS)) and np.all((probs >= 0) & (probs <= 1))


def test_calibration_auto_is_cross_fitted_and_none_is_the_identity(fits):
    from toxic_tagger.model.blend import calibrate
    from toxic_tagger.model.training import choose_calibration

    params, splits, _ = fits
    labels = label_matrix(splits.val)
    probs = np.random.default_rng(0).random(labels.shape).astype(np.float32)
    calibration, out = choose_calibration(replace(params, "train", calibration="none"), labels, probs)
    assert calibration == Calibration.identity() and out is probs
    calibration, out = choose_calibration(params, labels, probs)
    assert all(dict(t.cv_brier) for t in calibration.tags[:1])  # chosen by cross-fitting
    np.testing.assert_array_equal(out, calibrate(calibration, probs))  # what every runtime applies
