"""bf16 autocast: fp32 attention while training, bf16 prediction, the train.precision param."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import FIXTURE_CSV, fit_tiny
from sklearn.metrics import roc_auc_score

from toxic_tagger import TEXT_COLUMN
from toxic_tagger.data.comments_csv import label_matrix, read_split
from toxic_tagger.data.split import make_splits
from toxic_tagger.model.export import load_exported
from toxic_tagger.model.inference import predict_encoded, predict_proba
from toxic_tagger.model.precision import FP32_ATTENTION, autocast, fp32_attention, lightning_precision
from toxic_tagger.model.pretrained import load_classifier


def padded_batch(vocab: int = 1000) -> dict[str, torch.Tensor]:
    """Three comments of lengths 9, 5 and 2: two of them padded."""
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, vocab, (3, 9), generator=generator)
    mask = torch.ones(3, 9, dtype=torch.long)
    mask[1, 5:] = 0
    mask[2, 2:] = 0
    return {"input_ids": ids * mask, "attention_mask": mask}


def test_fp32_attention_is_the_same_model_and_restores_the_config(tiny_model_dir):
    model = load_classifier(str(tiny_model_dir)).eval()
    batch = padded_batch()
    reference = model(**batch).logits
    with fp32_attention(model) as active:
        assert active and model.config._attn_implementation == FP32_ATTENTION
        inside = model(**batch).logits
    assert model.config._attn_implementation == "sdpa"
    # exact: fp32 inputs pass straight to sdpa, and the padding mask is still built and applied
    assert torch.equal(inside, reference)


def test_padding_changes_nothing_under_fp32_attention(tiny_model_dir):
    """The mask really reaches attention: a padded comment scores as it does alone."""
    model = load_classifier(str(tiny_model_dir)).eval()
    batch = padded_batch()
    alone = {key: value[1:2, :5] for key, value in batch.items()}
    with fp32_attention(model), autocast("bf16"):
        padded_logits = model(**batch).logits[1].float()
        alone_logits = model(**alone).logits[0].float()
    assert torch.allclose(padded_logits, alone_logits, atol=1e-6)


def test_attention_runs_in_fp32_under_bf16_autocast(tiny_model_dir, monkeypatch):
    seen = []
    original = torch.nn.functional.scaled_dot_product_attention

    def spy(query, *args, **kwargs):
        seen.append(query.dtype)
        return original(query, *args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", spy)
    model = load_classifier(str(tiny_model_dir)).eval()
    with autocast("bf16"):
        plain = model(**padded_batch()).logits
        with fp32_attention(model):
            upcast = model(**padded_batch()).logits
    assert plain.dtype == upcast.dtype == torch.bfloat16  # the matmuls did run in bf16
    assert seen == [torch.bfloat16] * 2 + [torch.float32] * 2  # 2 layers each


def test_bf16_prediction_is_close_to_fp32_and_in_input_order(tiny_model_dir):
    model = load_classifier(str(tiny_model_dir)).eval()
    ids = [[101, *range(200, 200 + n), 102] for n in (30, 3, 12, 0, 7)]
    fp32 = predict_encoded(model, ids, 0, max_tokens=40, progress=False)
    bf16 = predict_encoded(model, ids, 0, max_tokens=40, progress=False, precision="bf16")
    assert bf16.dtype == np.float32 and bf16.shape == fp32.shape
    assert np.abs(bf16 - fp32).max() < 0.02  # bf16 keeps ~3 significant digits
    # order: each row is its own comment's score, not a neighbour's in the sorted batches
    alone = predict_encoded(model, ids[2:3], 0, max_tokens=40, progress=False, precision="bf16")
    assert np.abs(alone[0] - bf16[2]).max() < 0.02


def test_lightning_precision_names():
    assert lightning_precision("fp32") == "32-true"
    assert lightning_precision("bf16") == "bf16-mixed"


@pytest.mark.slow
def test_bf16_training_exports_an_fp32_model(tiny_params, tmp_path, monkeypatch):
    """train.precision bf16: the fit runs under autocast (the feed-forward's GELU sees bf16
    activations) with fp32 attention; the export is fp32 safetensors with a plain sdpa config
    (nothing of the training-time attention name is saved)."""
    seen = {"gelu": set(), "attention": set()}
    gelu, attention = torch.nn.functional.gelu, torch.nn.functional.scaled_dot_product_attention
    monkeypatch.setattr(torch.nn.functional, "gelu", lambda x, *a, **k: seen["gelu"].add(x.dtype) or gelu(x, *a, **k))
    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention",
                        lambda q, *a, **k: seen["attention"].add(q.dtype) or attention(q, *a, **k))
    # calibration none: the summary then scores the transformer alone, which this test recomputes
    params = tiny_params(tmp_path, train={"precision": "bf16", "baseline_weight": 0, "epochs": 1, "calibration": "none"})
    paths, summary = fit_tiny(params, tmp_path)
    assert torch.bfloat16 in seen["gelu"]  # training steps (fp32 again for the val predictions after the fit)
    assert seen["attention"] == {torch.float32}
    # The summary's val AUROC is the exported fp32 model's, recomputed here with sklearn.
    val = make_splits(read_split(FIXTURE_CSV), params.balance_split, params.seed).val
    exported = load_exported(paths.model)
    probs = predict_proba(exported.model, exported.tokenizer, val[TEXT_COLUMN].tolist(), exported.max_length, 4096,
                          progress=False)
    labels = label_matrix(val)
    aurocs = [roc_auc_score(labels[:, j], probs[:, j]) for j in range(6) if 0 < labels[:, j].sum() < len(labels)]
    assert aurocs and summary["val_mean_auroc"] == pytest.approx(np.mean(aurocs), abs=1e-6)
    config = json.loads((paths.model / "config.json").read_text())
    assert FP32_ATTENTION not in json.dumps(config)
    from safetensors.torch import load_file

    weights = load_file(paths.model / "model.safetensors")
    assert {tensor.dtype for tensor in weights.values()} == {torch.float32}


def test_unknown_precision_is_refused(tiny_params, tmp_path):
    from toxic_tagger.errors import ToxicTaggerError

    with pytest.raises(ToxicTaggerError, match="precision"):
        tiny_params(tmp_path, train={"precision": "fp16"})
