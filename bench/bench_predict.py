"""Prediction, tokenization and matmul parts of the benchmark (each runs in its own process).

Prediction compares, on the same seeded sample of labeled comments and the same model:
- tutorial: tokenize one comment (padding="max_length"), forward it alone, sigmoid;
- toxic-tagger fp32: `toxic_tagger.model.inference.predict_proba` (batch tokenization, length-sorted
  batches under a token budget, dynamic padding);
- toxic-tagger int8: the same call on `quantize_int8(model)`;
- onnxruntime fp32 / int8: `toxic_tagger.predict.onnx_runtime` (the same model exported to a fused ONNX
  graph, int8 with per-channel dynamic quantization; same tokenization and batches). Building
  the graph (export, fuse, quantize) is timed apart, as `build_seconds`, not in the throughput.
Torch paths run under `torch.inference_mode()`; each side gets one untimed warm-up call first,
then a matmul probe right before and right after its timed call (bench_peak.MatchedPeak: the
yardstick of that path's efficiency).
Timings include tokenization on both sides (it is part of each path). Probabilities come
back so the caller can compare AUROC and outputs across paths.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from bench_common import load_comments, rss_mb
from bench_peak import MatchedPeak, run_peak
from flops import ModelSize, batches_cls_only_skipped_flops, batches_flops, matmul_peak, model_size
from torch_int8 import quantize_int8

from toxic_tagger.data.batching import sorted_batches
from toxic_tagger.data.tokens import encode, token_lengths
from toxic_tagger.model.inference import predict_proba
from toxic_tagger.model.precision import native_bf16
from toxic_tagger.predict.onnx_runtime import build_session, predict_fast
from toxic_tagger.runtime import seed_everything


def load_predict_model(cfg: dict):
    """(model, tokenizer): the exported model if configured, else the base model with a random
    head (seeded, so every process builds the same one)."""
    from toxic_tagger.model.export import load_exported
    from toxic_tagger.model.pretrained import load_classifier, load_tokenizer

    if cfg["predict_model"]:
        exported = load_exported(cfg["predict_model"])
        return exported.model, exported.tokenizer
    seed_everything(cfg["seed"])
    return load_classifier(cfg["train_model"], cfg["root"]).eval(), load_tokenizer(cfg["train_model"], cfg["root"])


def tutorial_predict(model, tokenizer, texts: list[str], max_length: int) -> np.ndarray:
    """The tutorial's prediction: one comment at a time, padded to max_length: (n, labels)."""
    out = np.zeros((len(texts), model.config.num_labels), dtype=np.float32)
    with torch.inference_mode():
        for row, text in enumerate(texts):
            encoded = tokenizer(text, max_length=max_length, padding="max_length", truncation=True,
                                return_attention_mask=True, return_tensors="pt")
            logits = model(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"]).logits
            out[row] = torch.sigmoid(logits)[0].numpy()
    return out


def _timed(run, texts: list[str], peak: MatchedPeak | None = None) -> tuple[np.ndarray, float]:
    """(outputs, seconds) of `run(texts)` after a warm-up call; probes `peak` before and after."""
    run(texts[:8])  # warm-up: thread pool, kernel selection, first allocations
    if peak is not None:
        peak.probe()
    started = time.perf_counter()
    probs = run(texts)
    seconds = time.perf_counter() - started
    if peak is not None:
        peak.add(seconds)
        peak.probe()
    return probs, seconds


def _result(path: str, size: ModelSize, tokenizer, texts: list[str], max_length: int, probs: np.ndarray, seconds: float,
            batches_of, pad_to: int | None, cls_only: bool = True) -> dict:
    """Throughput and credited FLOP/s; `batches_of(lengths)` rebuilds the batches the path ran.
    `cls_only`: the path runs the last layer for [CLS] only (toxic-tagger's paths, not the
    tutorial's), so `executed_flops_share` (executed / credited FLOPs) is below 1."""
    lengths = [len(x) for x in encode(tokenizer, texts, max_length)]
    batches = batches_of(lengths)
    flops = batches_flops(size, lengths, batches, training=False, pad_to=pad_to)
    skipped = batches_cls_only_skipped_flops(size, lengths, batches, False, pad_to) if cls_only else 0
    return {"path": path, "comments": len(probs), "seconds": seconds, "comments_per_s": len(probs) / seconds,
            "real_tokens_per_s": sum(lengths) / seconds, "flops_per_s": flops / seconds,
            "executed_flops_share": 1 - skipped / flops, "probs": probs.tolist()}


def predict_tutorial(cfg: dict) -> dict:
    texts, _ = load_comments(cfg, "predict")
    texts = texts[: cfg["predict"]["tutorial_comments"]]
    model, tokenizer = load_predict_model(cfg)
    rss_loaded = rss_mb()
    peak = run_peak(cfg)
    probs, seconds = _timed(lambda t: tutorial_predict(model, tokenizer, t, cfg["max_length"]), texts, peak)
    one_each = lambda lengths: [[i] for i in range(len(lengths))]
    result = _result("tutorial", model_size(model), tokenizer, texts, cfg["max_length"], probs, seconds, one_each,
                     cfg["max_length"], cls_only=False)
    return {**result, **peak.summary(), "rss_after_load_mb": rss_loaded}


def predict_batched(cfg: dict, int8: bool, precision: str = "fp32") -> dict:
    texts, _ = load_comments(cfg, "predict")
    model, tokenizer = load_predict_model(cfg)
    size = model_size(model)  # before quantizing: packed int8 weights are not nn.Parameters
    started = time.perf_counter()
    model = quantize_int8(model) if int8 else model
    quantize_seconds = time.perf_counter() - started
    rss_loaded = rss_mb()
    budget, cap = cfg["predict"]["max_tokens_per_batch"], cfg["predict"]["max_batch_size"]
    peak = run_peak(cfg, bf16=precision == "bf16")
    probs, seconds = _timed(
        lambda t: predict_proba(model, tokenizer, t, cfg["max_length"], budget, cap, progress=False,
                                precision=precision), texts, peak)
    sorted_by_length = lambda lengths: sorted_batches(np.asarray(lengths), budget, cap)
    result = _result("toxic-tagger int8" if int8 else f"toxic-tagger {precision}", size, tokenizer, texts,
                     cfg["max_length"], probs, seconds, sorted_by_length, None)
    return {**result, **peak.summary(), "rss_after_load_mb": rss_loaded, "quantize_seconds": quantize_seconds if int8 else 0.0,
            "max_tokens_per_batch": budget, "max_batch_size": cap}


def predict_fp32(cfg: dict) -> dict:
    return predict_batched(cfg, int8=False)


def predict_int8(cfg: dict) -> dict:
    return predict_batched(cfg, int8=True)


def predict_bf16(cfg: dict) -> dict:
    """torch with bf16 autocast (`toxic-tagger predict --runtime torch-bf16`)."""
    return {**predict_batched(cfg, int8=False, precision="bf16"), "native_bf16": native_bf16()}


def predict_onnxruntime(cfg: dict, kind: str) -> dict:
    """The fast path: an ONNX Runtime session built from the same model (threads = torch's)."""
    import gc

    texts, _ = load_comments(cfg, "predict")
    model, tokenizer = load_predict_model(cfg)
    size = model_size(model)
    session = build_session(model, cfg["max_length"], kind=kind)
    del model  # the session holds its own weights
    gc.collect()
    rss_loaded = rss_mb()
    budget, cap = cfg["predict"]["max_tokens_per_batch"], cfg["predict"]["max_batch_size"]
    peak = run_peak(cfg)
    probs, seconds = _timed(lambda t: predict_fast(session, tokenizer, t, cfg["max_length"], budget, cap), texts, peak)
    sorted_by_length = lambda lengths: sorted_batches(np.asarray(lengths), budget, cap)
    result = _result(f"onnxruntime {kind}", size, tokenizer, texts, cfg["max_length"], probs, seconds,
                     sorted_by_length, None)
    return {**result, **peak.summary(), "rss_after_load_mb": rss_loaded, "build_seconds": session.build_seconds,
            "fused_operators": session.fused, "max_tokens_per_batch": budget, "max_batch_size": cap}


def predict_ort_fp32(cfg: dict) -> dict:
    return predict_onnxruntime(cfg, "fp32")


def predict_ort_int8(cfg: dict) -> dict:
    return predict_onnxruntime(cfg, "int8")


def tokenize(cfg: dict) -> dict:
    """Comments/s of per-comment tokenizer calls (tutorial style, padded; and unpadded) vs one
    batched call of the fast tokenizer (`toxic_tagger.data.tokens.encode`) on the same comments."""
    from toxic_tagger.model.pretrained import load_tokenizer

    texts, _ = load_comments(cfg, "predict")
    tokenizer = load_tokenizer(cfg["train_model"], cfg["root"])
    n = cfg["max_length"]
    ways = {
        "per_item_padded": lambda t: [tokenizer(x, max_length=n, padding="max_length", truncation=True,
                                                return_attention_mask=True, return_tensors="pt") for x in t],
        "per_item_unpadded": lambda t: [tokenizer(x, max_length=n, truncation=True) for x in t],
        "batch": lambda t: encode(tokenizer, t, n),
    }
    lengths = token_lengths(tokenizer, texts)  # untruncated, with special tokens
    out = {"comments": len(texts), "token_length_percentiles": {
        f"p{q}": float(np.percentile(lengths, q)) for q in (50, 75, 90, 95, 99)},
        "share_longer_than_max_length": float((lengths > n).mean())}
    for name, run in ways.items():
        _, seconds = _timed(run, texts)
        out[name] = {"seconds": seconds, "comments_per_s": len(texts) / seconds}
    return out


def matmul(cfg: dict) -> dict:
    """fp32 matmul FLOP/s at this process's thread count: the efficiency yardstick."""
    measured = matmul_peak(tuple(cfg["matmul_sizes"]), cfg["matmul_reps"])
    return {"flops_per_s": measured, "threads": torch.get_num_threads()}
