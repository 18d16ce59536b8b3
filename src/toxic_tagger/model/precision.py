"""bf16 autocast for training (`train.precision`) and prediction (`--runtime torch-bf16`).

On CPUs with native bf16 matrix units (Intel AMX: Sapphire Rapids and later) a bf16 matmul runs
several times faster than fp32; elsewhere it is emulated and slower, so fp32 stays the default.

    with autocast("bf16"):                    # matmuls in bf16, weights stay fp32
        logits = model(**inputs).logits
    with fp32_attention(model):               # training: attention itself back in fp32
        ...

Why attention goes back to fp32 in training: at BERT's head size 32, torch's CPU flash-attention
backward is slower in bf16 than in fp32, by enough to eat most of the bf16 matmul gain
(docs/performance.md). Forward-only prediction keeps bf16 attention: its forward has no such cost.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import cache

import torch

FP32_ATTENTION = "sdpa_fp32"  # the name the attention function below is registered under


def lightning_precision(precision: str) -> str:
    """Lightning's name for `train.precision` (weights stay fp32 in all): "bf16" is the CPU recipe
    (bf16-mixed with fp32 attention, see ToxicClassifier); the *-mixed values are GPU AMP."""
    return {"fp32": "32-true", "bf16": "bf16-mixed", "16-mixed": "16-mixed", "bf16-mixed": "bf16-mixed"}[precision]


def native_bf16() -> bool:
    """True when the CPU we run on has bf16 matmul instructions (oneDNN's check: AVX512-BF16 / AMX)."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def warn_if_emulated(precision: str) -> None:
    """bf16 on a CPU without bf16 instructions works but is slower than fp32: say so."""
    if precision == "bf16" and not native_bf16():
        warnings.warn("bf16 requested on a CPU without bf16 matmul instructions: it runs emulated and "
                      "slower than fp32 (precision fp32 is the fast choice here)", stacklevel=2)


def autocast(precision: str):
    """A bf16 autocast context on the CPU for "bf16", a no-op for "fp32"."""
    return torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16" else nullcontext()


def _sdpa_fp32(module, query, key, value, attention_mask, **kwargs):
    """transformers' sdpa attention with half-precision inputs computed in fp32; output in the
    inputs' dtype. fp32 inputs pass straight through."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    dtype = query.dtype
    if dtype == torch.float32:
        return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)
    if attention_mask is not None and attention_mask.is_floating_point():
        attention_mask = attention_mask.float()
    with torch.autocast("cpu", enabled=False):
        output, weights = sdpa_attention_forward(module, query.float(), key.float(), value.float(),
                                                 attention_mask, **kwargs)
    return output.to(dtype), weights


@cache
def _register_fp32_attention() -> None:
    """Make FP32_ATTENTION a name transformers knows (once per process, not per forward)."""
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    AttentionInterface.register(FP32_ATTENTION, _sdpa_fp32)
    # The padding mask too: transformers builds no mask at all for a name it has no mask maker for.
    ALL_MASK_ATTENTION_FUNCTIONS.register(FP32_ATTENTION, sdpa_mask)


@contextmanager
def fp32_attention(model, enabled: bool = True) -> Iterator[bool]:
    """While open, a transformers model using sdpa attention computes attention in fp32 even
    under autocast; yields whether it does. The config's attention name is restored on exit, so
    saving the model writes nothing of this."""
    config = model.config
    if not enabled or getattr(config, "_attn_implementation", None) != "sdpa":
        yield False
        return
    _register_fp32_attention()
    config._attn_implementation = FP32_ATTENTION
    try:
        yield True
    finally:
        config._attn_implementation = "sdpa"
