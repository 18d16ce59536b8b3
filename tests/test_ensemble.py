"""Blending the transformer with the baseline: weight choice on val and the exported path."""

import numpy as np
import pytest

from toxic_tagger import TEXT_COLUMN
from toxic_tagger.baseline import predict_baseline
from toxic_tagger.ensemble import GRID, blend, tune_weight
from toxic_tagger.export import load_exported
from toxic_tagger.predict import predict_exported, predict_proba
from toxic_tagger.table import read_split

from conftest import FIXTURE_CSV


def test_blend_endpoints():
    a, b = np.full((2, 6), 0.2), np.full((2, 6), 0.6)
    assert np.allclose(blend(a, b, 0.0), a) and np.allclose(blend(a, b, 1.0), b)
    assert np.allclose(blend(a, b, 0.25), 0.3)
    assert blend(a, None, 0.5) is a


def test_tune_weight_prefers_the_informative_part():
    rng = np.random.default_rng(0)
    labels = (rng.random((400, 6)) < 0.2).astype(int)
    good = np.clip(labels * 0.5 + rng.random((400, 6)) * 0.5, 0, 1)  # separates the classes
    noise = rng.random((400, 6))
    weight, scores = tune_weight(labels, noise, good)
    assert weight == 1.0 and set(scores) == {f"{w:.2f}" for w in GRID}
    weight, _ = tune_weight(labels, good, noise)
    assert weight == 0.0  # ties and losses go to the transformer alone


def test_exported_blend_is_what_prediction_uses(tiny_export):
    paths, summary, _ = tiny_export
    exported = load_exported(paths.model)
    assert exported.baseline_weight == pytest.approx(0.3) and summary["baseline_weight"] == 0.3
    assert (paths.model / "baseline" / "weights.safetensors").is_file()
    texts = read_split(FIXTURE_CSV)[TEXT_COLUMN].tolist()
    ours = predict_exported(exported, texts, 4096, progress=False)
    transformer = predict_proba(exported.model, exported.tokenizer, texts, exported.max_length, 4096, progress=False)
    expected = 0.7 * transformer + 0.3 * predict_baseline(exported.baseline, texts)
    np.testing.assert_allclose(ours, expected, atol=1e-6)
