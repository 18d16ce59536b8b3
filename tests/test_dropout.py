"""FastDropout: the kept share and scale of nn.Dropout, from the seed, identity in eval mode,
the mask as its gradient, and a drop-in swap inside a BERT classifier."""

from __future__ import annotations

import pytest
import torch

from toxic_tagger.model.fast_dropout import FastDropout, replace_dropout, scale_mask

N = 400_000  # binomial sd of a kept share near 0.9: sqrt(0.09 / N) < 5e-4


@pytest.mark.parametrize("p", [0.1, 0.2, 0.5])
def test_mask_keeps_one_minus_p_and_scales_the_kept(p):
    torch.manual_seed(0)
    mask = scale_mask(torch.Size([N]), p)
    assert mask.dtype == torch.float32 and mask.shape == (N,)
    assert mask.unique().tolist() == pytest.approx([0.0, 1 / (1 - p)])
    assert (mask > 0).float().mean().item() == pytest.approx(1 - p, abs=3e-3)
    assert mask.mean().item() == pytest.approx(1.0, abs=5e-3)  # expectation preserved


def test_every_16_bit_piece_of_a_draw_is_uniform():
    # Four mask elements come from one 64-bit draw; a piece with a constant or signed top bit
    # (e.g. not masked to 15 bits) would keep far more or far fewer than 1 - p.
    torch.manual_seed(1)
    kept = (scale_mask(torch.Size([N]), 0.3) > 0).float().view(-1, 4)
    for share in kept.mean(dim=0).tolist():
        assert share == pytest.approx(0.7, abs=6e-3)


def test_masks_come_from_the_seed():
    torch.manual_seed(5)
    first = scale_mask(torch.Size([3, 7, 11]), 0.1)
    torch.manual_seed(5)
    assert torch.equal(first, scale_mask(torch.Size([3, 7, 11]), 0.1))
    assert not torch.equal(first, scale_mask(torch.Size([3, 7, 11]), 0.1))  # the generator moved on


def test_fast_dropout_trains_with_its_mask_and_is_identity_in_eval():
    x = torch.randn(64, 33, requires_grad=True)
    layer = FastDropout(0.25)
    torch.manual_seed(3)
    out = layer(x)
    torch.manual_seed(3)
    mask = scale_mask(x.shape, 0.25)
    torch.testing.assert_close(out, x * mask)
    out.sum().backward()
    torch.testing.assert_close(x.grad, mask)  # d out / d x is the mask itself
    layer.eval()
    assert torch.equal(layer(x), x)
    assert torch.equal(FastDropout(0.0)(x), x)
    assert not FastDropout(1.0)(x).any()


def test_replace_dropout_swaps_every_dropout_and_keeps_weights_and_eval_outputs(tiny_model_dir):
    from toxic_tagger.model.pretrained import load_classifier

    model = load_classifier(str(tiny_model_dir), hidden_dropout=0.1).eval()
    rates = [m.p for m in model.modules() if type(m) is torch.nn.Dropout]
    keys = set(model.state_dict())
    ids = torch.randint(1000, 2000, (2, 9))
    before = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
    assert replace_dropout(model) == len(rates) > 0
    assert not any(type(m) is torch.nn.Dropout for m in model.modules())
    assert [m.p for m in model.modules() if isinstance(m, FastDropout)] == rates  # same rates, same places
    assert set(model.state_dict()) == keys
    torch.testing.assert_close(model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits, before)


@pytest.mark.parametrize("fast", [True, False])
def test_classifier_uses_fast_dropout_only_when_asked(tiny_model_dir, fast):
    from toxic_tagger.model.classifier import ToxicClassifier
    from toxic_tagger.model.pretrained import load_classifier

    module = ToxicClassifier(load_classifier(str(tiny_model_dir)), lr=1e-3, head_lr=1e-3, fast_dropout=fast)
    kinds = {type(m) for m in module.model.modules() if isinstance(m, torch.nn.Dropout)}
    assert kinds == ({FastDropout} if fast else {torch.nn.Dropout})
    assert module.model.training  # still in training mode after the swap
