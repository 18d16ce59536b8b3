"""Fast CPU prediction with ONNX Runtime: the exported transformer as a fused ONNX graph.

    session = build_session("models/toxic-tagger", kind="int8", cache_dir=None)
    probs = predict_fast(session, tokenizer, texts, max_length, max_tokens)  # (n, labels), input order

`build_session` loads the safetensors model (never a pickle) with eager attention and exports
it with torch's TorchScript ONNX exporter (dynamic batch and sequence axes). The last layer is
exported for the [CLS] position only (`cls_only.py`: the logits are the same and about 1/7 of
the matmuls are skipped). `onnxruntime.transformers` then fuses embeddings + LayerNorm,
attention, bias + GELU and residual + LayerNorm (the eager attention graph is the pattern it
recognises; the sdpa one fuses no attention). kind="int8" quantizes
the weights of every MatMul / fused Attention per output channel (pooler and classifier stay
fp32; activations are quantized per batch). Each build is checked against torch on a padded
batch. With `cache_dir` the .onnx file is kept under a name hashing the weights, config, kind
and library versions, so a later session only loads it; without it a temp dir is used.
`predict_fast` is `model.inference.predict_proba` with ONNX Runtime in place of torch: the same
tokenization, length-sorted token-budget batches and per-batch padding.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from toxic_tagger.data.batching import scored_in_batches
from toxic_tagger.data.tokens import HEAD, Truncation, encode
from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.model.cls_only import cls_only_last_layer
from toxic_tagger.predict.weights_key import weights_key

KINDS = ("fp32", "int8")
FORMAT = 1  # bump when the build recipe changes, so cached files are rebuilt
OPSET = 17
# Largest |probability| gap to torch that a build may show on its check batch: fp32 must match;
# int8 only has to be sane: quantizing weights and activations moves probabilities, so its bound
# only catches a broken build.
PARITY = {"fp32": 1e-4, "int8": 0.25}


@dataclass(frozen=True)
class FastSession:
    session: object  # onnxruntime.InferenceSession
    kind: str
    num_labels: int
    path: Path | None  # the cached .onnx file; None when built in a temp dir
    build_seconds: float  # load + export + fuse (+ quantize) + open; small when found in the cache
    fused: dict = field(default_factory=dict)  # fused operator counts, e.g. {"Attention": 5}


def build_session(source, max_length: int = 512, kind: str = "fp32", cache_dir: str | Path | None = None,
                  threads: int | None = None) -> FastSession:
    """An ONNX Runtime session for `source`: an exported / transformers directory (safetensors)
    or a loaded sequence-classification model. `threads`: intra-op threads (default: torch's)."""
    if kind not in KINDS:
        raise ToxicTaggerError(f"fast prediction kind {kind!r}: expected one of {', '.join(KINDS)}")
    started = time.perf_counter()
    model = _eager_model(source)
    with tempfile.TemporaryDirectory(prefix="toxic-onnx-") as tmp:
        name = f"toxic-tagger-{kind}-{_cache_key(model, kind)[:20]}.onnx"
        path = Path(cache_dir or tmp) / name
        if not path.is_file():
            _build_onnx(model, path, kind, max_length)
        session = _open(path, threads)
        fused = _read_fused(path)
    _check_parity(model, session, kind, max_length)
    return FastSession(session, kind, int(model.config.num_labels), path if cache_dir else None,
                       time.perf_counter() - started, fused)


def predict_fast(session: FastSession, tokenizer, texts: Sequence[str], max_length: int, max_tokens: int,
                 max_batch_size: int = 256, truncation: Truncation = HEAD) -> np.ndarray:
    """Probabilities per tag for each text: (len(texts), n_labels) float32, input order."""
    ids = encode(tokenizer, texts, max_length, truncation=truncation)
    return predict_encoded_fast(session, ids, tokenizer.pad_token_id, max_tokens, max_batch_size)


def predict_encoded_fast(session: FastSession, ids: list[list[int]], pad_id: int, max_tokens: int,
                         max_batch_size: int = 256) -> np.ndarray:
    """Like predict_fast, for already tokenized comments."""
    return scored_in_batches(ids, pad_id, max_tokens, max_batch_size, session.num_labels,
                             lambda padded: _sigmoid(_logits(session.session, padded)))


def predict_exported_fast(exported, session: FastSession, texts: Sequence[str], max_tokens: int) -> np.ndarray:
    """`torch_runtime.predict_exported` on ONNX Runtime: the session's probabilities (the export's
    truncation), blended with its baseline when it carries one, then calibrated."""
    from toxic_tagger.model.blend import blend_exported

    return blend_exported(exported, texts, predict_fast(session, exported.tokenizer, texts, exported.max_length,
                                                        max_tokens, truncation=exported.truncation))


def _logits(session, inputs: dict[str, torch.Tensor]) -> np.ndarray:
    """logits: (batch, n_labels) float32 for padded input_ids / attention_mask (batch, len)."""
    feed = {name: tensor.numpy() for name, tensor in inputs.items()}
    return session.run(["logits"], feed)[0]


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-logits.astype(np.float64)))).astype(np.float32)


def _eager_model(source):
    """An eval-mode copy of the model with eager attention (the graph ORT's BERT fusions match)."""
    import copy

    from transformers import AutoModelForSequenceClassification

    if isinstance(source, str | Path):
        return AutoModelForSequenceClassification.from_pretrained(
            source, use_safetensors=True, attn_implementation="eager").eval()
    model = copy.deepcopy(source).eval()
    model.set_attn_implementation("eager")
    return model


def _cache_key(model, kind: str) -> str:
    """sha256 over the recipe, library versions, config and every weight."""
    import onnx
    import onnxruntime

    recipe = {"format": FORMAT, "kind": kind, "opset": OPSET, "torch": torch.__version__, "onnx": onnx.__version__,
              "onnxruntime": onnxruntime.__version__, "config": model.config.to_dict()}
    return weights_key(model, recipe)


def _build_onnx(model, target: Path, kind: str, max_length: int) -> None:
    """Export and fuse `model` (checked against torch), quantize for int8; write `target`
    atomically with a .json sidecar of fused operator counts."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="toxic-onnx-build-", dir=target.parent) as tmp:
        raw, built = Path(tmp) / "raw.onnx", Path(tmp) / "fused.onnx"
        export_onnx(model, raw)
        fused = _fuse(model.config, raw, built)
        _check_parity(model, _open(built, None), "fp32", max_length)
        if kind == "int8":
            _quantize(built, Path(tmp) / "int8.onnx")
            built = Path(tmp) / "int8.onnx"
        target.with_suffix(".json").write_text(json.dumps({"fused": fused}) + "\n", encoding="utf-8")
        os.replace(built, target)


def export_onnx(model, path: Path) -> None:
    """The [CLS]-only graph of `model` as ONNX (openvino_runtime reads it too). TorchScript
    exporter (dynamo=False): needs no onnxscript and keeps the BERT attention pattern intact.
    Dynamic axes: batch and sequence."""
    import warnings

    # The example must contain padding: tracing keeps only the branch it takes, and an all-ones
    # mask may be dropped by transformers' mask helpers.
    ids = torch.tensor([[101, 2023, 2003, 102], [101, 2023, 102, 0]])
    mask = (ids != 0).long()
    axes = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
            "logits": {0: "batch"}}
    with warnings.catch_warnings(), torch.inference_mode(), cls_only_last_layer(model):
        warnings.simplefilter("ignore")  # tracer and deprecation notices about the legacy exporter
        torch.onnx.export(model, (ids, mask), str(path), dynamo=False, opset_version=OPSET,
                          input_names=["input_ids", "attention_mask"], output_names=["logits"],
                          dynamic_axes=axes)


def _fuse(config, raw: Path, target: Path) -> dict:
    """onnxruntime.transformers BERT fusions (python-level only: opt_level=0 keeps the file
    portable; the session applies its own graph optimizations at load)."""
    from onnxruntime.transformers.optimizer import optimize_model

    fused = optimize_model(str(raw), model_type="bert", num_heads=int(config.num_attention_heads),
                           hidden_size=int(config.hidden_size), opt_level=0)
    fused.save_model_to_file(str(target))
    return {op: n for op, n in fused.get_fused_operator_statistics().items() if n}


def _quantize(source: Path, target: Path) -> None:
    """Dynamic int8: per-channel weights of MatMul and fused Attention; the embedding Gather,
    the pooler and classifier Gemms stay fp32. reduce_range (7-bit weights) avoids the int16
    saturation of u8 x s8 products on CPUs without VNNI (AVX2), at the same speed and with a
    smaller logit error (docs/performance.md)."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Shape inference cannot see through the fused contrib ops: their outputs are fp32.
    options = {"MatMulConstBOnly": True, "DefaultTensorType": onnx.TensorProto.FLOAT}
    root, level = logging.getLogger(), logging.getLogger().level
    root.setLevel(logging.ERROR)  # its "consider pre-processing" hint is for static (calibrated) quantization
    try:
        quantize_dynamic(source, target, op_types_to_quantize=["MatMul", "Attention"], per_channel=True,
                         reduce_range=True, weight_type=QuantType.QInt8, extra_options=options)
    finally:
        root.setLevel(level)


def _read_fused(path: Path) -> dict:
    sidecar = path.with_suffix(".json")
    return json.loads(sidecar.read_text(encoding="utf-8"))["fused"] if sidecar.is_file() else {}


def _open(path: Path, threads: int | None):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _check_parity(model, session, kind: str, max_length: int) -> None:
    """Compare with torch on a padded batch of random ids: a fusion that silently changed the
    maths (say after a transformers upgrade) fails here, not in the metrics."""
    generator = torch.Generator().manual_seed(0)
    length = min(48, max_length)
    ids = torch.randint(1000, min(20000, model.config.vocab_size), (3, length), generator=generator)
    mask = torch.ones_like(ids)
    mask[1, length // 2 :] = 0
    ids[1, length // 2 :] = 0
    with torch.inference_mode():
        expected = torch.sigmoid(model(input_ids=ids, attention_mask=mask).logits).numpy()
    gap = float(np.abs(_sigmoid(_logits(session, {"input_ids": ids, "attention_mask": mask})) - expected).max())
    if gap > PARITY[kind]:
        raise ToxicTaggerError(f"ONNX Runtime {kind} graph differs from torch by {gap:.2g} in probability "
                               f"(limit {PARITY[kind]:g}); predict with torch instead")
