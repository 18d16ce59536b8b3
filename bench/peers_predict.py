"""Prediction side by side: `toxic-tagger predict` vs `transformers.pipeline` (the peer).

Both sides score the same labeled comments with the same exported model, truncated at its
max_length, on the same torch threads:
- peer: pipeline("text-classification", model=<export>, top_k=None, function_to_apply="sigmoid",
  batch_size=32, truncation=True, max_length=<the export's>): batches of 32 in input order, each
  padded to its longest comment, the model in full (no [CLS]-only last layer);
- toxic-tagger: `Tagger.load(<export>, runtime=...)`, as `toxic-tagger predict` scores (batch
  tokenization, length-sorted batches under 2,048 padded tokens, the export's baseline blend).
Steady state (in a process of its own, model loaded and warmed up on 8 comments, then one timed
call over all comments), with phases in seconds: tokenize, model, post (the peer's postprocess;
toxic-tagger's baseline blend) and other (the peer's collate and iteration). toxic-tagger's
phases come from its own calls: `encode` timed alone, the runtime on the export without its
blend (tokenize + model), then `blend_exported` (what every runtime ends with).
Whole process (`whole_process`): the real command as a child, wall time and its own peak RSS.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from bench_common import load_comments, rss_mb

from toxic_tagger import LABELS

PIPELINE_BATCH_SIZE = 32
WARMUP_COMMENTS = 8


def pipeline_settings(max_length: int) -> dict:
    """The peer's pipeline(...) keywords besides the task and model."""
    return {"top_k": None, "function_to_apply": "sigmoid", "batch_size": PIPELINE_BATCH_SIZE, "truncation": True,
            "max_length": max_length}


def pipeline_scores(results: list[list[dict]]) -> np.ndarray:
    """The pipeline's [[{label, score}, ...], ...] (sorted by score) as (n, 6) in LABELS order."""
    return np.array([[next(r["score"] for r in row if r["label"] == tag) for tag in LABELS] for row in results],
                    dtype=np.float32)


def export_max_length(model_dir: str) -> int:
    from toxic_tagger.model.export import load_exported

    return int(load_exported(model_dir).max_length)


def _timed_method(obj, name: str, seconds: dict, phase: str) -> None:
    """Wrap obj.<name> (on the instance) so its calls add their time to seconds[phase]."""
    original = getattr(obj, name)

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            seconds[phase] += time.perf_counter() - started

    setattr(obj, name, timed)


def predict_pipeline(cfg: dict) -> dict:
    from transformers import pipeline

    texts, _ = load_comments(cfg, "predict")
    max_length = export_max_length(cfg["predict_model"])
    started = time.perf_counter()
    pipe = pipeline("text-classification", model=cfg["predict_model"], **pipeline_settings(max_length))
    load_seconds = time.perf_counter() - started
    seconds = dict.fromkeys(("tokenize", "model", "post"), 0.0)
    for name, phase in (("preprocess", "tokenize"), ("_forward", "model"), ("postprocess", "post")):
        _timed_method(pipe, name, seconds, phase)
    pipe(texts[:WARMUP_COMMENTS])
    seconds.update(dict.fromkeys(seconds, 0.0))
    started = time.perf_counter()
    probs = pipeline_scores(pipe(texts))
    total = time.perf_counter() - started
    return {"side": "pipeline", "comments": len(texts), "seconds": total, "comments_per_s": len(texts) / total,
            "load_seconds": load_seconds, "rss_after_load_mb": rss_mb(), "max_length": max_length,
            "phases": {**seconds, "other": total - sum(seconds.values())}, "transformer_probs": probs.tolist()}


def predict_toxic_tagger(cfg: dict, runtime: str) -> dict:
    from toxic_tagger.data.tokens import encode
    from toxic_tagger.model.blend import blend_exported
    from toxic_tagger.model.export import load_exported
    from toxic_tagger.predict.runtimes import load_scorer

    texts, _ = load_comments(cfg, "predict")
    started = time.perf_counter()
    exported = load_exported(cfg["predict_model"])
    plain = dataclasses.replace(exported, baseline=None)  # the transformer alone: the blend is timed apart
    score = load_scorer(plain, runtime, cfg["max_tokens_per_batch"], onnx_cache=cfg["cache_dir"], progress=False)
    load_seconds = time.perf_counter() - started
    blend_exported(exported, texts[:WARMUP_COMMENTS], score(texts[:WARMUP_COMMENTS]))
    started = time.perf_counter()
    transformer = score(texts)
    scored = time.perf_counter()
    final = blend_exported(exported, texts, transformer)
    ended = time.perf_counter()
    started_tokenize = time.perf_counter()
    encode(exported.tokenizer, texts, exported.max_length)
    tokenize = time.perf_counter() - started_tokenize
    total = ended - started
    return {"side": "toxic-tagger", "runtime": runtime, "comments": len(texts), "seconds": total,
            "comments_per_s": len(texts) / total, "load_seconds": load_seconds, "rss_after_load_mb": rss_mb(),
            "max_length": int(exported.max_length), "blended": exported.baseline is not None,
            "phases": {"tokenize": tokenize, "model": scored - started - tokenize, "post": ended - scored,
                       "other": 0.0},
            "transformer_probs": transformer.tolist(), "final_probs": final.tolist()}


def toxic_tagger_command(model: str, runtime: str, source: Path, target: Path, threads: int, cache: str) -> list[str]:
    """`toxic-tagger predict` as a user runs it (the console script's `main`, this checkout's code)."""
    return [sys.executable, "-m", "toxic_tagger.cli", "predict", "--model", model, "--input", str(source),
            "--output", str(target), "--runtime", runtime, "--threads", str(threads), "--onnx-cache", cache]


def pipeline_command(model: str, source: Path, target: Path, threads: int, max_length: int) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve().parent / "peer_pipeline.py"), "--model", model,
            "--input", str(source), "--output", str(target), "--threads", str(threads), "--max-length", str(max_length)]


def whole_process(name: str, command: list[str], root: str, log: Path) -> dict:
    """Run `command` to completion: wall seconds and the peak RSS of that child alone (wait4)."""
    print(f"[bench-peers] whole process: {name} ...", file=sys.stderr, flush=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(root) / "src"),
                                                                     os.environ.get("PYTHONPATH")]))}
    with log.open("w") as out:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
        raise SystemExit(f"error: {name} failed (exit {child.returncode}):\n" + "\n".join(tail))
    return {"command": command, "seconds": seconds, "peak_rss_mb": usage.ru_maxrss / 1024}
