"""The prediction runtimes behind `--runtime` and `Tagger.load(runtime=...)`, built once.

    score = load_scorer(exported, "openvino-bf16", max_tokens=2048, onnx_cache=dir)
    probs = score(texts)   # (n, 6) final probabilities, input order

torch (fp32) and torch-bf16 (matmuls under bf16 autocast: fast on CPUs with bf16 matrix units,
emulated and slow elsewhere) run `torch_runtime.predict_exported`; onnxruntime and
onnxruntime-int8 build (or find in `onnx_cache`) a fused ONNX graph of the same weights
(`onnx_runtime`); openvino and openvino-bf16 compile the same weights with OpenVINO
(`openvino_runtime`; bf16 inference on CPUs with bf16 units, the fastest runtime there), cached
in the same folder. ONNX Runtime and OpenVINO run on the CPU only. Every runtime applies the
export's blend the same way, so the thresholds mean the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from toxic_tagger.errors import ToxicTaggerError

RUNTIMES = ("torch", "torch-bf16", "onnxruntime", "onnxruntime-int8", "openvino", "openvino-bf16")
PROGRESS_FROM = 1000  # comments in one call: fewer print no per-batch progress bar
Scorer = Callable[[Sequence[str]], np.ndarray]


def load_scorer(exported, runtime: str, max_tokens: int, onnx_cache: str | Path | None = None,
                progress: bool = True) -> Scorer:
    """A function texts -> final probabilities (n, 6) of `exported` on `runtime` (RUNTIMES).
    `onnx_cache`: where built ONNX Runtime / OpenVINO graphs are kept (None: rebuilt each time)."""
    if runtime not in RUNTIMES:
        raise ToxicTaggerError(f"runtime {runtime!r}: expected one of {', '.join(RUNTIMES)}")
    if max_tokens < 1:
        raise ToxicTaggerError(f"max tokens per batch must be at least 1, got {max_tokens}")
    if runtime.startswith("torch"):
        return _torch_scorer(exported, runtime, max_tokens, progress)
    if exported.model.device.type != "cpu":
        raise ToxicTaggerError(f"runtime {runtime}: it runs on the CPU here; use device 'cpu'")
    if runtime.startswith("onnxruntime"):
        return _onnxruntime_scorer(exported, runtime, max_tokens, onnx_cache)
    return _openvino_scorer(exported, runtime, max_tokens, onnx_cache)


def _torch_scorer(exported, runtime: str, max_tokens: int, progress: bool) -> Scorer:
    from toxic_tagger.model.precision import warn_if_emulated
    from toxic_tagger.predict.torch_runtime import predict_exported

    precision = "bf16" if runtime == "torch-bf16" else "fp32"
    warn_if_emulated(precision)
    return lambda texts: predict_exported(exported, texts, max_tokens, progress=progress and len(texts) > PROGRESS_FROM,
                                          precision=precision)


def _onnxruntime_scorer(exported, runtime: str, max_tokens: int, cache: str | Path | None) -> Scorer:
    require_extra("onnxruntime", "onnx", f"runtime {runtime}")
    from toxic_tagger.predict.onnx_runtime import build_session, predict_exported_fast

    kind = "int8" if runtime.endswith("int8") else "fp32"
    session = build_session(exported.model, exported.max_length, kind=kind, cache_dir=cache)
    return lambda texts: predict_exported_fast(exported, session, texts, max_tokens)


def _openvino_scorer(exported, runtime: str, max_tokens: int, cache: str | Path | None) -> Scorer:
    for module in ("openvino", "onnx"):  # onnx: the graph reaches OpenVINO as an ONNX file
        require_extra(module, "openvino", f"runtime {runtime}")
    from toxic_tagger.predict.openvino_runtime import build_compiled, predict_exported_openvino

    kind = "bf16" if runtime.endswith("bf16") else "fp32"
    built = build_compiled(exported.model, exported.max_length, kind=kind, cache_dir=cache)
    return lambda texts: predict_exported_openvino(exported, built, texts, max_tokens)


def require_extra(module: str, extra: str, what: str) -> None:
    """Stop with one line naming the pip extra when an optional dependency is not installed."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ToxicTaggerError(f"{what} needs the '{extra}' extra: pip install 'toxic-tagger[{extra}]'")
