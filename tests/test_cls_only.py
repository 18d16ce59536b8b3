"""The [CLS]-only last layer (cls_only.py) on a tiny random BERT: same logits and gradients as
the full model, only [CLS] reaches the last feed-forward, the model is left as it was."""

from __future__ import annotations

import pytest
import torch

from toxic_tagger.model.cls_only import cls_only_last_layer, supports
from toxic_tagger.model.pretrained import load_classifier


def padded_batch() -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, 20000, (3, 24), generator=generator)
    mask = torch.ones_like(ids)
    mask[1, 10:] = 0  # padding, so the mask path is exercised
    mask[2, 3:] = 0
    ids[mask == 0] = 0
    return {"input_ids": ids, "attention_mask": mask}


@pytest.fixture(params=["sdpa", "eager"])
def classifier(request, tiny_model_dir):
    torch.manual_seed(0)
    model = load_classifier(str(tiny_model_dir), hidden_dropout=0.0, attention_dropout=0.0)
    model.set_attn_implementation(request.param)
    return model


def test_eval_logits_match_the_full_model(classifier):
    batch = padded_batch()
    with torch.inference_mode():
        full = classifier.eval()(**batch).logits
        with cls_only_last_layer(classifier) as active:
            fast = classifier(**batch).logits
    assert active
    torch.testing.assert_close(fast, full, atol=1e-5, rtol=1e-5)


def test_training_gradients_match_the_full_model(classifier):
    """No dropout: the loss and every parameter's gradient are the same (to float rounding)."""
    batch, target = padded_batch(), torch.rand(3, 6)

    def grads(cls_only: bool) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        classifier.train().zero_grad()
        with cls_only_last_layer(classifier, cls_only):
            logits = classifier(**batch).logits
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
        loss.backward()
        return loss.detach(), {n: p.grad.clone() for n, p in classifier.named_parameters() if p.grad is not None}

    full_loss, full = grads(False)
    fast_loss, fast = grads(True)
    torch.testing.assert_close(fast_loss, full_loss, atol=1e-6, rtol=1e-5)
    assert fast.keys() == full.keys()
    for name in full:
        torch.testing.assert_close(fast[name], full[name], atol=1e-6, rtol=1e-4, msg=name)


def test_only_cls_reaches_the_last_feed_forward_and_the_model_is_restored(classifier):
    last = classifier.base_model.encoder.layer[-1]
    seen: list[tuple[int, ...]] = []
    hook = last.intermediate.dense.register_forward_hook(lambda module, inputs, out: seen.append(tuple(inputs[0].shape)))
    keys = list(classifier.state_dict())
    with torch.inference_mode():
        with cls_only_last_layer(classifier):
            classifier.eval()(**padded_batch())
        classifier(**padded_batch())
    hook.remove()
    assert seen == [(3, 1, 32), (3, 24, 32)]  # [CLS] only inside the context, every token after it
    assert "forward" not in vars(last.attention) and list(classifier.state_dict()) == keys


def test_models_without_a_pooler_run_unchanged(tiny_model_dir):
    from transformers import AutoModelForSequenceClassification, DistilBertConfig

    other = AutoModelForSequenceClassification.from_config(
        DistilBertConfig(vocab_size=100, dim=16, n_layers=1, n_heads=2, hidden_dim=32, num_labels=6))
    assert not supports(other)
    with cls_only_last_layer(other) as active:
        assert not active
    ids = torch.tensor([[1, 5, 7, 2]])
    torch.testing.assert_close(other.eval()(input_ids=ids).logits, other(input_ids=ids).logits)
