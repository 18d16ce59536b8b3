"""Blending the transformer with the baseline: weight choice on val and the exported path."""

import json
import shutil

import numpy as np
import pytest
from conftest import FIXTURE_CSV
from sklearn.metrics import roc_auc_score

from toxic_tagger import TEXT_COLUMN
from toxic_tagger.data.comments_csv import read_split
from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.model.baseline import predict_baseline
from toxic_tagger.model.blend import GRID, blend, tune_weights
from toxic_tagger.model.export import META_FILE, load_exported
from toxic_tagger.model.inference import predict_proba
from toxic_tagger.predict.torch_runtime import predict_exported


def test_blend_endpoints():
    a, b = np.full((2, 6), 0.2), np.full((2, 6), 0.6)
    assert np.allclose(blend(a, b, 0.0), a) and np.allclose(blend(a, b, 1.0), b)
    assert np.allclose(blend(a, b, 0.25), 0.3)
    assert blend(a, None, 0.5) is a


def test_blend_takes_one_weight_per_tag():
    a, b = np.full((2, 6), 0.2), np.full((2, 6), 0.6)
    weights = np.array([0.0, 1.0, 0.5, 0.0, 0.25, 0.0])
    np.testing.assert_allclose(blend(a, b, weights)[0], [0.2, 0.6, 0.4, 0.2, 0.3, 0.2], atol=1e-6)
    assert blend(a, b, np.zeros(6)) is a


def _odds_mean(t: float, b: float, w: float) -> float:
    """Weighted geometric mean of the odds, written out: what a log-odds average is."""
    top = t ** (1 - w) * b ** w
    return top / (top + (1 - t) ** (1 - w) * (1 - b) ** w)


def test_logit_blend_averages_log_odds():
    a, b = np.full((2, 6), 0.2), np.full((2, 6), 0.6)
    weights = np.array([0.0, 1.0, 0.5, 0.25, 0.75, 0.0])
    expected = [_odds_mean(0.2, 0.6, w) for w in weights]
    np.testing.assert_allclose(blend(a, b, weights, "logit")[1], expected, atol=1e-6)
    assert blend(a, b, np.zeros(6), "logit") is a
    # Symmetric odds cancel; saturated parts are clipped, not infinite.
    np.testing.assert_allclose(blend(np.full((1, 6), 0.9), np.full((1, 6), 0.1), 0.5, "logit"), 0.5, atol=1e-6)
    np.testing.assert_allclose(blend(np.ones((1, 6)), np.zeros((1, 6)), 0.5, "logit"), 0.5, atol=1e-6)
    np.testing.assert_allclose(blend(np.ones((1, 6)), np.ones((1, 6)), 0.3, "logit"), 1.0, atol=1e-6)


def test_logit_blend_keeps_a_confident_part_apart_from_probability_blend():
    # One part sure (0.999), the other unsure (0.5): averaging probabilities pulls the score to
    # ~0.75, averaging log-odds keeps it far above a negative that both call 0.6.
    t, b = np.array([[0.999] * 6, [0.6] * 6]), np.array([[0.5] * 6, [0.6] * 6])
    assert blend(t, b, 0.5, "logit")[0, 0] > 0.95 > blend(t, b, 0.5)[0, 0]


def test_blend_rejects_an_unknown_space():
    with pytest.raises(ToxicTaggerError, match="blend space"):
        blend(np.zeros((1, 6)), np.zeros((1, 6)), 0.5, "rank")


def test_tune_weights_picks_the_informative_part_per_tag():
    rng = np.random.default_rng(0)
    labels = (rng.random((400, 6)) < 0.2).astype(int)
    good = np.clip(labels * 0.5 + rng.random((400, 6)) * 0.5, 0, 1)  # separates the classes
    noise = rng.random((400, 6))
    # The baseline is informative on tags 0-2 only, the transformer on tags 3-5.
    transformer = np.concatenate([noise[:, :3], good[:, 3:]], axis=1)
    baseline = np.concatenate([good[:, :3], noise[:, 3:]], axis=1)
    weights, scores = tune_weights(labels, transformer, baseline)
    np.testing.assert_array_equal(weights, [1.0, 1.0, 1.0, 0.0, 0.0, 0.0])  # ties/losses go to the transformer
    # The curve's ends are each part alone: mean AUROC over tags, computed here with sklearn.
    mean_auroc = lambda probs: np.mean([roc_auc_score(labels[:, j], probs[:, j]) for j in range(6)])  # noqa: E731
    assert len(scores) == len(GRID)
    assert scores["0.00"] == pytest.approx(mean_auroc(transformer)) and scores["1.00"] == pytest.approx(mean_auroc(baseline))
    labels[:, 5] = 0  # a tag without positives in val gets weight 0
    assert tune_weights(labels, transformer, baseline)[0][5] == 0.0


def test_exported_blend_is_what_prediction_uses(untrained_export):
    exported = load_exported(untrained_export)
    np.testing.assert_allclose(exported.baseline_weight, 0.3)
    assert (untrained_export / "baseline" / "weights.safetensors").is_file()
    texts = read_split(FIXTURE_CSV)[TEXT_COLUMN].tolist()
    ours = predict_exported(exported, texts, 4096, progress=False)
    transformer = predict_proba(exported.model, exported.tokenizer, texts, exported.max_length, 4096, progress=False)
    expected = 0.7 * transformer + 0.3 * predict_baseline(exported.baseline, texts)
    np.testing.assert_allclose(ours, expected, atol=1e-6)


def test_exported_logit_blend_is_what_prediction_uses(untrained_export, tmp_path):
    model_dir = shutil.copytree(untrained_export, tmp_path / "model")
    meta = json.loads((model_dir / META_FILE).read_text())
    assert meta["blend"]["space"] == "probability"
    meta["blend"]["space"] = "logit"
    (model_dir / META_FILE).write_text(json.dumps(meta))
    exported = load_exported(model_dir)
    texts = read_split(FIXTURE_CSV)[TEXT_COLUMN].tolist()
    transformer = predict_proba(exported.model, exported.tokenizer, texts, exported.max_length, 4096, progress=False)
    baseline = predict_baseline(exported.baseline, texts).astype(np.float64)
    expected = _odds_mean(transformer.astype(np.float64), baseline, 0.3)
    np.testing.assert_allclose(predict_exported(exported, texts, 4096, progress=False), expected, atol=1e-6)
    meta["blend"]["space"] = "rank"
    (model_dir / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(ToxicTaggerError, match=r"toxic_tagger\.json: blend\.space"):
        load_exported(model_dir)
