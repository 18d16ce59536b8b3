"""Run a BERT classifier's last layer for the [CLS] position only.

BERT's pooler and classification head read the last layer's [CLS] vector and nothing else,
so the last layer's attention output projection, feed-forward and LayerNorms need not run for
the other tokens (its keys and values still come from every token). The logits are the same
(to float rounding) and about 1/7 of the encoder's matmuls are skipped, in training (forward
and backward) as in prediction.

    with cls_only_last_layer(model):   # model: a transformers BERT-family classifier
        logits = model(input_ids=..., attention_mask=...).logits

Nothing is added to the model: the last attention block's `forward` is overridden on the
instance while the context is open, so weights, state_dict keys and save_pretrained output are
untouched. Models this does not fit (no pooler, not BERT) run unchanged: `supports(model)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import torch


def supports(model) -> bool:
    """True for BERT classifiers with a pooler (the [CLS]-only output is all they read)."""
    base = getattr(model, "base_model", None)
    layers = getattr(getattr(base, "encoder", None), "layer", None)
    return (getattr(model.config, "model_type", None) == "bert" and bool(layers)
            and getattr(base, "pooler", None) is not None and not model.config.is_decoder)


@contextmanager
def cls_only_last_layer(model, enabled: bool = True) -> Iterator[bool]:
    """While open, the last layer of `model` computes [CLS] only; yields whether it does."""
    if not (enabled and supports(model)):
        yield False
        return
    attention = model.base_model.encoder.layer[-1].attention
    attention.forward = partial(_cls_attention, attention)
    try:
        yield True
    finally:
        del attention.forward  # back to the class's method


def _cls_attention(attention, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None,
                   **kwargs) -> tuple[torch.Tensor, None]:
    """BertAttention.forward for the [CLS] query only: (batch, 1, hidden), None. The [CLS] query
    attends over every token's key and value, through the model's own attention function
    (sdpa or eager, with its dropout when training), then the output dense + LayerNorm."""
    from transformers.models.bert.modeling_bert import ALL_ATTENTION_FUNCTIONS, eager_attention_forward

    inner = attention.self
    batch, length = hidden_states.shape[:2]
    heads = lambda x, n: x.view(batch, n, -1, inner.attention_head_size).transpose(1, 2)  # (b, heads, n, d)
    cls = hidden_states[:, :1]  # (batch, 1, hidden)
    query = heads(inner.query(cls), 1)
    key, value = heads(inner.key(hidden_states), length), heads(inner.value(hidden_states), length)
    # A 4-d mask is (batch, 1, queries, keys) or broadcastable; keep the [CLS] query's row.
    mask = attention_mask[:, :, :1] if attention_mask is not None and attention_mask.dim() == 4 else attention_mask
    interface = ALL_ATTENTION_FUNCTIONS.get_interface(inner.config._attn_implementation, eager_attention_forward)
    context, _ = interface(inner, query, key, value, mask, dropout=inner.dropout.p if inner.training else 0.0,
                           scaling=inner.scaling)
    return attention.output(context.reshape(batch, 1, -1), cls), None
