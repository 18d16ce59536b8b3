"""The ONNX Runtime prediction path on a tiny random BERT: fp32 matches torch `predict_proba`
(order, truncation, the [CLS]-only last layer), int8 stays close, the cache is reused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.model.inference import predict_proba
from toxic_tagger.predict.onnx_runtime import build_session, predict_exported_fast, predict_fast

MAX_LENGTH, BUDGET = 32, 96  # small budget: several batches of different padded lengths
TEXTS = ["you are great", "shut up, idiot " * 40, "ok", "thanks for the edit on the article about birds",
         "what a stupid thing to say", "nice " * 25, "I disagree but respect that", "die"]


@pytest.fixture(scope="module")
def classifier_dir(tiny_model_dir, tmp_path_factory):
    """The tiny BERT with a seeded random 6-way head, saved as safetensors + tokenizer."""
    from transformers import AutoTokenizer

    from toxic_tagger.model.pretrained import load_classifier

    torch.manual_seed(0)
    directory = tmp_path_factory.mktemp("tiny-classifier")
    load_classifier(str(tiny_model_dir)).save_pretrained(directory, safe_serialization=True)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def torch_side(classifier_dir):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(classifier_dir, use_safetensors=True).eval()
    return model, AutoTokenizer.from_pretrained(classifier_dir)


@pytest.fixture(scope="module")
def sessions(classifier_dir):
    return {kind: build_session(classifier_dir, MAX_LENGTH, kind=kind, threads=1) for kind in ("fp32", "int8")}


def test_fp32_matches_torch_predict_proba(sessions, torch_side):
    model, tokenizer = torch_side
    expected = predict_proba(model, tokenizer, TEXTS, MAX_LENGTH, BUDGET, progress=False)
    got = predict_fast(sessions["fp32"], tokenizer, TEXTS, MAX_LENGTH, BUDGET)
    assert got.shape == (len(TEXTS), 6) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_input_order_is_kept(sessions, torch_side):
    _, tokenizer = torch_side
    forward = predict_fast(sessions["fp32"], tokenizer, TEXTS, MAX_LENGTH, BUDGET)
    backward = predict_fast(sessions["fp32"], tokenizer, TEXTS[::-1], MAX_LENGTH, BUDGET)
    one_by_one = np.vstack([predict_fast(sessions["fp32"], tokenizer, [t], MAX_LENGTH, BUDGET) for t in TEXTS])
    np.testing.assert_allclose(backward[::-1], forward, atol=1e-5)
    np.testing.assert_allclose(one_by_one, forward, atol=1e-5)


def test_long_comments_are_truncated_at_max_length(sessions, torch_side):
    model, tokenizer = torch_side
    head = "you are a " * 20  # well over MAX_LENGTH tokens: what follows is cut off
    texts = [head + "wonderful person", head + "horrible troll"]
    got = predict_fast(sessions["fp32"], tokenizer, texts, MAX_LENGTH, BUDGET)
    np.testing.assert_allclose(got[0], got[1], atol=1e-6)
    np.testing.assert_allclose(got, predict_proba(model, tokenizer, texts, MAX_LENGTH, BUDGET, progress=False),
                               atol=1e-4)


def test_graph_is_fused_and_the_last_layer_skips_non_cls_tokens(sessions):
    # 2 layers: the first fuses into one Attention op; the last is exported for [CLS] only.
    for session in sessions.values():
        assert session.fused.get("Attention") == 1 and session.fused.get("SkipLayerNormalization")
        assert session.path is None and session.build_seconds > 0


def test_int8_stays_close_to_fp32(sessions, torch_side):
    _, tokenizer = torch_side
    fp32 = predict_fast(sessions["fp32"], tokenizer, TEXTS, MAX_LENGTH, BUDGET)
    int8 = predict_fast(sessions["int8"], tokenizer, TEXTS, MAX_LENGTH, BUDGET)
    assert np.abs(int8 - fp32).max() < 0.05


def test_cache_is_keyed_and_reused(classifier_dir, torch_side, tmp_path):
    _, tokenizer = torch_side
    first = build_session(classifier_dir, MAX_LENGTH, kind="fp32", cache_dir=tmp_path, threads=1)
    again = build_session(classifier_dir, MAX_LENGTH, kind="fp32", cache_dir=tmp_path, threads=1)
    assert first.path == again.path and first.path.parent == tmp_path and again.fused == first.fused
    np.testing.assert_array_equal(predict_fast(first, tokenizer, TEXTS, MAX_LENGTH, BUDGET),
                                  predict_fast(again, tokenizer, TEXTS, MAX_LENGTH, BUDGET))
    assert build_session(classifier_dir, MAX_LENGTH, kind="int8", cache_dir=tmp_path, threads=1).path != first.path
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".json", ".json", ".onnx", ".onnx"]


def test_a_loaded_model_works_too_and_is_left_unchanged(torch_side):
    model, tokenizer = torch_side
    implementation = model.config._attn_implementation
    session = build_session(model, MAX_LENGTH, kind="fp32", threads=1)
    assert model.config._attn_implementation == implementation
    np.testing.assert_allclose(predict_fast(session, tokenizer, TEXTS, MAX_LENGTH, BUDGET),
                               predict_proba(model, tokenizer, TEXTS, MAX_LENGTH, BUDGET, progress=False), atol=1e-4)


def test_unknown_kind_is_an_error(classifier_dir):
    with pytest.raises(ToxicTaggerError, match="int4"):
        build_session(classifier_dir, MAX_LENGTH, kind="int4")


def test_exported_model_with_its_baseline_blend(untrained_export):
    from toxic_tagger.model.export import load_exported
    from toxic_tagger.predict.torch_runtime import predict_exported

    exported = load_exported(untrained_export)
    assert exported.baseline is not None
    session = build_session(untrained_export, exported.max_length, kind="fp32", threads=1)
    np.testing.assert_allclose(predict_exported_fast(exported, session, TEXTS, BUDGET),
                               predict_exported(exported, TEXTS, BUDGET, progress=False), atol=1e-4)
