"""TF-IDF + logistic regression baseline: learns, reloads exactly without pickle, reports in eval.json's schema."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import FIXTURE_CSV, ROOT
from safetensors.numpy import load_file
from sklearn.metrics import roc_auc_score

from toxic_tagger import LABELS, TEXT_COLUMN
from toxic_tagger.atomic_files import write_csv
from toxic_tagger.config import SplitParams, load_params
from toxic_tagger.data.comments_csv import label_matrix, read_split
from toxic_tagger.data.split import make_splits
from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.evaluate.metrics import per_tag_auroc, split_report
from toxic_tagger.model.baseline import (
    FittedBaseline,
    baseline_report,
    fit_baseline,
    load_baseline,
    predict_baseline,
    predict_fitted,
    save_baseline,
    to_model,
    train_baseline,
)

PARAMS = load_params(ROOT / "params.yaml")  # the real defaults: the fixture is small enough
# Texts the fit never saw: accents (strip_accents), unknown words, punctuation only, repeats.
UNSEEN = ["Café crème, naïve façade!!", "zzqx unseen wordz", "?!...", "you you you idiot idiot", "a"]


@pytest.fixture(scope="module")
def table():
    return read_split(FIXTURE_CSV)


@pytest.fixture(scope="module")
def fitted(table) -> FittedBaseline:
    return fit_baseline(table[TEXT_COLUMN].tolist(), label_matrix(table), PARAMS.baseline, PARAMS.seed)


def test_learns_the_fixture(table, fitted):
    probs = predict_fitted(fitted, table[TEXT_COLUMN].tolist())
    assert probs.shape == (len(table), len(LABELS))
    assert np.nanmean(per_tag_auroc(label_matrix(table), probs)) > 0.9


def test_saved_model_reproduces_the_pipeline(tmp_path, table, fitted):
    thresholds = np.linspace(0.1, 0.6, len(LABELS))
    save_baseline(tmp_path / "baseline", to_model(fitted, thresholds))
    loaded = load_baseline(tmp_path / "baseline")
    texts = table[TEXT_COLUMN].tolist() + UNSEEN
    np.testing.assert_allclose(predict_baseline(loaded, texts), predict_fitted(fitted, texts), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(loaded.thresholds, thresholds)


def test_saved_directory_holds_no_pickle(tmp_path, fitted):
    save_baseline(tmp_path / "baseline", to_model(fitted, np.full(len(LABELS), 0.5)))
    files = sorted(p.name for p in (tmp_path / "baseline").iterdir())
    assert files == ["baseline.json", "vocabulary.json", "weights.safetensors"]
    # Each file parses as what its name says, so none can be a pickle in disguise.
    for name in ("baseline.json", "vocabulary.json"):
        json.loads((tmp_path / "baseline" / name).read_text(encoding="utf-8"))
    assert set(load_file(str(tmp_path / "baseline" / "weights.safetensors"))) == {
        "word.idf", "char.idf", "coef", "intercept"}
    assert not list(tmp_path.glob(".*"))  # no temporary directory left beside it


def test_fit_is_reproducible(table, fitted):
    again = fit_baseline(table[TEXT_COLUMN].tolist(), label_matrix(table), PARAMS.baseline, PARAMS.seed)
    texts = table[TEXT_COLUMN].tolist()
    np.testing.assert_array_equal(predict_fitted(again, texts), predict_fitted(fitted, texts))


def test_report_has_the_eval_schema(table):
    splits = make_splits(table, SplitParams(0.2, 0.2, 10), PARAMS.seed)
    model = train_baseline(splits.train, splits.val, PARAMS.baseline, PARAMS.seed)
    report = baseline_report(model, {"test": splits.test, "val": splits.val}, 20, PARAMS.seed)
    assert list(report) == ["threads", "thresholds_from", "test", "val"]  # as stages/evaluate.py writes
    labels = label_matrix(splits.val)
    probs = np.random.default_rng(0).random(labels.shape)
    reference = split_report(labels, probs, np.full(len(LABELS), 0.5), 20, 0)
    for name in ("test", "val"):
        assert _key_tree(report[name]) == _key_tree(reference)
    json.dumps(report, allow_nan=False)
    # The numbers are the saved model's on each split, recomputed here with sklearn.
    for name, frame in (("test", splits.test), ("val", splits.val)):
        probs, labels = predict_baseline(model, frame[TEXT_COLUMN].tolist()), label_matrix(frame)
        assert report[name]["rows"] == len(frame)
        for j, label in enumerate(LABELS):
            expected = roc_auc_score(labels[:, j], probs[:, j]) if 0 < labels[:, j].sum() < len(frame) else None
            assert report[name][label]["auroc"] == pytest.approx(expected, abs=1e-6), (name, label)


def _key_tree(node):
    return {k: _key_tree(v) for k, v in node.items()} if isinstance(node, dict) else None


def test_load_rejects_other_directories(tmp_path):
    with pytest.raises(ToxicTaggerError, match="not a baseline model"):
        load_baseline(tmp_path)


def test_stage_writes_model_and_metrics(tmp_path, table):
    splits = make_splits(table, SplitParams(0.2, 0.2, 10), PARAMS.seed)
    for name in ("train", "val", "test"):
        write_csv(tmp_path / "data" / f"{name}.csv", getattr(splits, name))
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    (tmp_path / "dvc.yaml").touch()  # marks the repository root
    args = ["--train", "data/train.csv", "--val", "data/val.csv", "--test", "data/test.csv",
            "--model", "models/baseline", "--metrics", "metrics/baseline.json"]
    result = subprocess.run([sys.executable, str(ROOT / "stages" / "baseline.py"), *args],
                            cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "metrics" / "baseline.json").read_text())
    assert metrics["thresholds_from"] == "val" and metrics["test"]["rows"] == len(splits.test)
    assert load_baseline(tmp_path / "models" / "baseline").coef.shape[0] == len(LABELS)


def test_refit_baseline_fits_the_given_rows_and_keeps_the_thresholds(tmp_path, table):
    from toxic_tagger.model.refit import refit_baseline

    splits = make_splits(table, SplitParams(0.2, 0.2, None), 0)
    first = train_baseline(splits.train, splits.val, PARAMS.baseline, PARAMS.seed)
    save_baseline(tmp_path / "first", first)
    extra = splits.val.assign(**{TEXT_COLUMN: splits.val[TEXT_COLUMN] + " zyzzyva"})
    rows = pd.concat([splits.train, extra], ignore_index=True)
    refit = load_baseline(refit_baseline(PARAMS, rows, tmp_path / "first", tmp_path / "refit"))
    assert "zyzzyva" in refit.analyzers["word"].terms and "zyzzyva" not in first.analyzers["word"].terms
    np.testing.assert_array_equal(refit.thresholds, first.thresholds)
