"""The prediction runtimes behind `toxic-tagger predict --runtime`, one call for all of them.

    probs = predict_with_runtime(exported, texts, "onnxruntime-int8", max_tokens=2048, onnx_cache=dir)

torch (fp32) and torch-bf16 (matmuls under bf16 autocast: fast on CPUs with AMX, emulated and
slow elsewhere) run `torch_runtime.predict_exported`; onnxruntime and onnxruntime-int8 build (or
find in `onnx_cache`) a fused ONNX graph of the same weights (`onnx_runtime`). Every runtime
applies the export's blend the same way, so the thresholds mean the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

RUNTIMES = ("torch", "torch-bf16", "onnxruntime", "onnxruntime-int8")
PROGRESS_FROM = 1000  # comments: shorter inputs print no progress bar


def predict_with_runtime(exported, texts: Sequence[str], runtime: str, max_tokens: int,
                         onnx_cache: str | Path | None = None) -> np.ndarray:
    """Final probabilities (n, 6) of an exported model for `texts` on `runtime` (RUNTIMES)."""
    if runtime.startswith("torch"):
        from toxic_tagger.model.precision import warn_if_emulated
        from toxic_tagger.predict.torch_runtime import predict_exported

        precision = "bf16" if runtime == "torch-bf16" else "fp32"
        warn_if_emulated(precision)
        return predict_exported(exported, texts, max_tokens, progress=len(texts) > PROGRESS_FROM,
                                precision=precision)
    from toxic_tagger.predict.onnx_runtime import build_session, predict_exported_fast

    kind = "int8" if runtime.endswith("int8") else "fp32"
    session = build_session(exported.model, exported.max_length, kind=kind, cache_dir=onnx_cache)
    return predict_exported_fast(exported, session, texts, max_tokens)
