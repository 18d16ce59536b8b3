"""Dynamic int8 quantization of a model's Linear layers, for faster CPU prediction.

`quantize_int8(model)` returns a copy whose nn.Linear layers keep int8 weights (one scale per
output channel) and quantize activations on the fly per batch; embeddings, LayerNorm, softmax
and GELU stay fp32. Scales are per channel because they move probabilities less than one
scale per tensor, at the same speed (docs/performance.md). Prediction only: the copy has no
gradients.

API note: torch 2.13 still ships `torch.ao.quantization.quantize_dynamic` (eager mode, fbgemm /
x86 kernels) but marks it deprecated in favour of torchao's `quantize_(model,
Int8DynamicActivationInt8WeightConfig())`, a separate package and not a dependency here. This
module keeps the built-in path and
silences its deprecation warnings; switching to torchao means changing only this function.
"""

from __future__ import annotations

import copy
import warnings

import torch


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """An eval-mode copy of `model` with dynamically quantized int8 nn.Linear layers."""
    if "x86" in torch.backends.quantized.supported_engines:
        torch.backends.quantized.engine = "x86"  # fbgemm kernels with AVX2/AVX-512 dispatch
    source = copy.deepcopy(model).eval()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantize.*deprecated.*")
        quantization = torch.ao.quantization
        spec = {torch.nn.Linear: quantization.per_channel_dynamic_qconfig}
        return quantization.quantize_dynamic(source, spec, dtype=torch.qint8)
