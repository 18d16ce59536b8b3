"""Blending the transformer with the baseline: weight choice on val and the exported path."""

import numpy as np

from toxic_tagger import TEXT_COLUMN
from toxic_tagger.baseline import predict_baseline
from toxic_tagger.ensemble import GRID, blend, tune_weights
from toxic_tagger.export import load_exported
from toxic_tagger.predict import predict_exported, predict_proba
from toxic_tagger.table import read_split

from conftest import FIXTURE_CSV


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
    assert set(scores) == {f"{w:.2f}" for w in GRID}
    labels[:, 5] = 0  # a tag without positives in val gets weight 0
    assert tune_weights(labels, transformer, baseline)[0][5] == 0.0


def test_exported_blend_is_what_prediction_uses(tiny_export):
    paths, summary, _ = tiny_export
    exported = load_exported(paths.model)
    np.testing.assert_allclose(exported.baseline_weight, 0.3)
    assert summary["baseline_weight"] == 0.3 and set(summary["baseline_weight_per_tag"].values()) == {0.3}
    assert (paths.model / "baseline" / "weights.safetensors").is_file()
    texts = read_split(FIXTURE_CSV)[TEXT_COLUMN].tolist()
    ours = predict_exported(exported, texts, 4096, progress=False)
    transformer = predict_proba(exported.model, exported.tokenizer, texts, exported.max_length, 4096, progress=False)
    expected = 0.7 * transformer + 0.3 * predict_baseline(exported.baseline, texts)
    np.testing.assert_allclose(ours, expected, atol=1e-6)
