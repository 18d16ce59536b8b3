"""Fast CPU prediction with OpenVINO: the exported transformer compiled by OpenVINO's CPU plugin.

    compiled = build_compiled(model, max_length, kind="bf16", cache_dir=None)
    probs = predict_openvino(compiled, tokenizer, texts, max_length, max_tokens)  # (n, labels), input order

`build_compiled` exports the model's [CLS]-only graph to ONNX (`onnx_runtime.export_onnx`, the
TorchScript exporter, sdpa attention as the model has it), reads it with OpenVINO's ONNX reader
and compiles it for the CPU with one stream (PERFORMANCE_HINT LATENCY: every thread on the
one batch in flight). kind="bf16" sets OpenVINO's inference precision hint to bf16: matmuls and
attention in bf16 on CPUs with bf16 units (AMX, AVX512-BF16); on other CPUs OpenVINO cannot,
so it warns and compiles fp32. No usage telemetry leaves the machine: `import openvino` and
its model converter report to Intel unless a user opted out, so `import_openvino` imports it
with its telemetry package hidden (OpenVINO then uses its own no-op stub), and the graph
arrives as an ONNX file rather than through the converter.
With `cache_dir` the OpenVINO model (.xml + .bin) is kept under a name hashing the weights,
config and library versions (one file for both kinds: the hint applies at compile time).
Every build is checked against torch on a padded batch and a single comment.
`predict_openvino` is `model.inference.predict_proba` with OpenVINO in place of torch: the same
tokenization, length-sorted token-budget batches and per-batch padding.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from toxic_tagger.data.batching import scored_in_batches
from toxic_tagger.data.tokens import HEAD, Truncation, encode
from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.predict.weights_key import weights_key

KINDS = ("fp32", "bf16")
FORMAT = 1  # bump when the build recipe changes, so cached files are rebuilt
# Largest |probability| gap to torch a build may show on its check batches: fp32 must match;
# bf16 rounds every matmul input (about 0.015 on real comments), so its bound only catches a
# broken build.
PARITY = {"fp32": 1e-4, "bf16": 0.1}
HINTS = {"fp32": "f32", "bf16": "bf16"}


@dataclass(frozen=True)
class OpenVinoModel:
    compiled: object  # openvino.CompiledModel
    kind: str  # as asked: fp32 or bf16
    precision: str  # what OpenVINO infers in: f32 or bf16 (bf16 asked on a CPU without bf16 units: f32)
    num_labels: int
    path: Path | None  # the cached .xml; None when built in a temp dir
    build_seconds: float  # export + read + compile; small when found in the cache


def build_compiled(model, max_length: int = 512, kind: str = "fp32", cache_dir: str | Path | None = None,
                   threads: int | None = None) -> OpenVinoModel:
    """An OpenVINO model compiled for the CPU from a loaded transformers BERT-family classifier
    (put in eval mode, weights untouched). `threads`: inference threads (default: torch's)."""
    if kind not in KINDS:
        raise ToxicTaggerError(f"OpenVINO prediction kind {kind!r}: expected one of {', '.join(KINDS)}")
    ov = import_openvino()
    started = time.perf_counter()
    core = ov.Core()
    precision = _precision(core, kind)
    model = model.eval()
    with tempfile.TemporaryDirectory(prefix="toxic-openvino-") as tmp:
        if cache_dir is None:
            path, source = None, _export(model, Path(tmp))
        else:
            path = Path(cache_dir) / f"toxic-tagger-openvino-{_cache_key(model, ov.__version__)[:20]}.xml"
            if not path.is_file():
                _save(ov, core.read_model(str(_export(model, Path(tmp)))), path)
            source = path
        config = {"INFERENCE_NUM_THREADS": threads or torch.get_num_threads(), "PERFORMANCE_HINT": "LATENCY",
                  "INFERENCE_PRECISION_HINT": precision}
        compiled = core.compile_model(core.read_model(str(source)), "CPU", config)
    built = OpenVinoModel(compiled, kind, precision, int(model.config.num_labels), path,
                          time.perf_counter() - started)
    _check_parity(model, built, max_length)
    return built


def predict_openvino(built: OpenVinoModel, tokenizer, texts: Sequence[str], max_length: int, max_tokens: int,
                     max_batch_size: int = 256, truncation: Truncation = HEAD) -> np.ndarray:
    """Probabilities per tag for each text: (len(texts), n_labels) float32, input order."""
    ids = encode(tokenizer, texts, max_length, truncation=truncation)
    return predict_encoded_openvino(built, ids, tokenizer.pad_token_id, max_tokens, max_batch_size)


def predict_encoded_openvino(built: OpenVinoModel, ids: list[list[int]], pad_id: int, max_tokens: int,
                             max_batch_size: int = 256) -> np.ndarray:
    """Like predict_openvino, for already tokenized comments."""
    request = built.compiled.create_infer_request()  # one per call: calls from several threads stay apart
    return scored_in_batches(ids, pad_id, max_tokens, max_batch_size, built.num_labels,
                             lambda padded: _sigmoid(_logits(built, request, padded)))


def predict_exported_openvino(exported, built: OpenVinoModel, texts: Sequence[str], max_tokens: int) -> np.ndarray:
    """`torch_runtime.predict_exported` on OpenVINO: its probabilities (the export's truncation),
    blended with its baseline when it carries one, then calibrated."""
    from toxic_tagger.model.blend import blend_exported

    return blend_exported(exported, texts, predict_openvino(built, exported.tokenizer, texts, exported.max_length,
                                                            max_tokens, truncation=exported.truncation))


def import_openvino():
    """The `openvino` module, imported (on first use) with `openvino_telemetry` unimportable, so
    its import-time usage report falls back to OpenVINO's own no-op stub."""
    if "openvino" not in sys.modules:
        hide = "openvino_telemetry" not in sys.modules
        if hide:
            sys.modules["openvino_telemetry"] = None  # makes `import openvino_telemetry` raise ImportError
        try:
            import openvino  # noqa: F401
        finally:
            if hide:
                del sys.modules["openvino_telemetry"]
    return sys.modules["openvino"]


def native_bf16(core) -> bool:
    """Whether OpenVINO's CPU plugin can run bf16 on this CPU (bf16 units: AMX or AVX512-BF16)."""
    return "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def _precision(core, kind: str) -> str:
    if kind == "bf16" and not native_bf16(core):
        warnings.warn("openvino-bf16 on a CPU without bf16 units: OpenVINO runs it in fp32 "
                      "(runtime openvino is the same thing here)", stacklevel=3)
        return HINTS["fp32"]
    return HINTS[kind]


def _logits(built: OpenVinoModel, request, inputs: dict[str, torch.Tensor]) -> np.ndarray:
    """logits: (batch, n_labels) float32 for padded input_ids / attention_mask (batch, len)."""
    result = request.infer({name: tensor.numpy() for name, tensor in inputs.items()})
    return np.asarray(result[built.compiled.output(0)], dtype=np.float32)


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-logits.astype(np.float64)))).astype(np.float32)


def _cache_key(model, openvino_version: str) -> str:
    import onnx

    return weights_key(model, {"format": FORMAT, "torch": torch.__version__, "onnx": onnx.__version__,
                               "openvino": openvino_version, "config": model.config.to_dict()})


def _export(model, folder: Path) -> Path:
    from toxic_tagger.predict.onnx_runtime import export_onnx

    path = folder / "model.onnx"
    export_onnx(model, path)
    return path


def _save(ov, ov_model, target: Path) -> None:
    """Write the OpenVINO model as `target` (.xml) + its .bin, weights kept fp32; the .bin lands
    first and the .xml last, each by rename, so a reader never finds a half-written pair."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="toxic-openvino-save-", dir=target.parent) as tmp:
        staged = Path(tmp) / "model.xml"
        ov.save_model(ov_model, str(staged), compress_to_fp16=False)
        os.replace(staged.with_suffix(".bin"), target.with_suffix(".bin"))
        os.replace(staged, target)


def _check_parity(model, built: OpenVinoModel, max_length: int) -> None:
    """Compare with torch on a padded batch of random ids and on one unpadded short comment: a
    conversion that silently changed the maths (say after an upgrade) fails here, not in metrics."""
    generator = torch.Generator().manual_seed(0)
    length = min(48, max_length)
    ids = torch.randint(1000, min(20000, model.config.vocab_size), (3, length), generator=generator)
    mask = torch.ones_like(ids)
    mask[1, length // 2 :] = 0
    ids[1, length // 2 :] = 0
    batches = [(ids, mask), (ids[:1, : min(5, length)], mask[:1, : min(5, length)])]
    request = built.compiled.create_infer_request()
    gap = 0.0
    with torch.inference_mode():
        for batch_ids, batch_mask in batches:
            expected = torch.sigmoid(model(input_ids=batch_ids, attention_mask=batch_mask).logits).numpy()
            got = _sigmoid(_logits(built, request, {"input_ids": batch_ids, "attention_mask": batch_mask}))
            gap = max(gap, float(np.abs(got - expected).max()))
    if gap > PARITY[built.kind]:
        raise ToxicTaggerError(f"OpenVINO {built.kind} model differs from torch by {gap:.2g} in probability "
                               f"(limit {PARITY[built.kind]:g}); predict with torch instead")
