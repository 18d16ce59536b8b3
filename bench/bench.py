"""Benchmark: the tutorial's recipe vs toxic-tagger, side by side, in one run on one machine.

    make bench                                     # full size
    python bench/bench.py --train-comments 64 --predict-comments 64 --train-steps-limit 3 \
        --tutorial-predict-comments 16             # a quick look

Measures, on the same comments (the shared real Jigsaw file, else the synthetic sample) and
the same model: training throughput (samples/s, real tokens/s), compute efficiency (FLOP/s
of real tokens, see flops, over the fp32 matmul FLOP/s measured alongside each
part, bench_peak.py; and over the best of the run's first and last matmul probes), prediction throughput (torch fp32 and int8, ONNX Runtime fp32 and int8), tokenization speed, and the peak resident
memory of each path (every measured part runs in a fresh child process, bench_child.py).
Prints a table of ratios with the issue's targets (reported, not asserted) and writes all
results to --output (default bench/results.json).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "src")]

import numpy as np
from bench_machine import (
    cpu_snapshot,
    describe_machine,
    load_average,
    other_processes_cores,
)
from bench_report import FLIPPED, summary_rows
from bench_text import finite, notes, report_text

from toxic_tagger import LABELS, TEXT_COLUMN
from toxic_tagger.atomic_files import write_json
from toxic_tagger.config import load_params
from toxic_tagger.evaluate.metrics import per_tag_auroc
from toxic_tagger.paths import resolve_user_path

DEFAULT_DATA = "../shared/data/jigsaw-train-15k.csv.gz"
DEFAULT_MODEL = "models/toxic-tagger"
PARTS = ("matmul", "tokenize", "train_tutorial", "train_toxic_tagger",
         *(f"train_toxic_tagger_{param}_flipped" for param in FLIPPED), "train_toxic_tagger_bf16",
         "predict_tutorial", "predict_fp32", "predict_int8", "predict_bf16", "predict_ort_fp32", "predict_ort_int8")
# Prediction paths compared with torch fp32 on AUROC and outputs (key in results["prediction"]).
FAST_PATHS = ("int8", "bf16", "ort_fp32", "ort_int8")


def add_shared_options(parser: argparse.ArgumentParser) -> None:
    """Options bench.py and bench_params.py share (same defaults, so both pick the same comments)."""
    add = parser.add_argument
    add("--params", type=Path, default=ROOT / "params.yaml", help="seed, threads, model.*, train.* and evaluate.*")
    add("--data", default=DEFAULT_DATA, help="Jigsaw CSV(.gz); the synthetic sample if the file is absent")
    add("--train-comments", type=int, default=1024, help="fixed, seeded training set, the same for every side")
    add("--max-length", type=int, default=512, help="truncation length, every side")
    add("--train-model", default=None, help="model trained from (default: params.yaml model.name)")
    add("--threads", type=int, default=None, help="torch threads (default: params.yaml threads; 0 = all cores)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_shared_options(parser)
    add = parser.add_argument
    add("--predict-comments", type=int, default=2048, help="seeded random sample of labeled comments")
    add("--tutorial-predict-comments", type=int, default=None,
        help="measure the slow per-comment path on the first N of the sample only (default: all)")
    add("--train-steps-limit", type=int, default=None, help="stop each training side after N steps")
    add("--warmup-steps", type=int, default=1, help="first training steps per side left out of the timing")
    add("--tutorial-batch-size", type=int, default=12)
    add("--model", default=None, help=f"exported model for prediction (default: {DEFAULT_MODEL} if it exists, "
        "else the base model with a random head, flagged in the output)")
    add("--base-model", action="store_true", help="predict with the base model and a random head even if an "
        "exported model exists (speed and int8 fidelity only)")
    add("--matmul-sizes", type=int, nargs="+", default=[1024, 2048])
    add("--matmul-reps", type=int, default=5)
    add("--probe-seconds", type=float, default=8.0,
        help="measure the matmul peak again after every N s of timed training steps (efficiency yardstick)")
    add("--in-process", action="store_true", help="no child processes (fast; peak memory is then cumulative)")
    add("--output", type=Path, default=HERE / "results.json")
    return parser.parse_args(argv)


def load_frame(data: str, rows: int, seed: int) -> tuple:
    """The comment table and where it came from: the real file if present, else synthetic."""
    from toxic_tagger.data.comments_csv import parse_comments, read_source_bytes
    from toxic_tagger.data.synthetic import generate_sample

    path = resolve_user_path(data, ROOT)
    if path.is_file():
        return parse_comments(*read_source_bytes(path)), {"kind": "real", "path": str(path)}
    return generate_sample(max(rows, 100), seed), {"kind": "synthetic", "missing": str(path), "seed": seed}


def select_comments(frame, n_train: int, n_predict: int, seed: int) -> dict:
    """Disjoint seeded random samples: the training set and the prediction set."""
    if len(frame) < n_train + n_predict:
        raise SystemExit(f"error: the data has {len(frame)} comments; {n_train} + {n_predict} requested")
    order = np.random.default_rng(seed).permutation(len(frame))
    picks = {"train": order[:n_train], "predict": order[n_train : n_train + n_predict]}
    return {name: {"texts": frame[TEXT_COLUMN].iloc[rows].tolist(),
                   "labels": frame.loc[:, list(LABELS)].iloc[rows].to_numpy(dtype=int).tolist()}
            for name, rows in picks.items()}


def resolve_predict_model(value: str | None, base_model: bool) -> str | None:
    """The exported model directory to predict with, or None for the base model + random head."""
    if base_model:
        return None
    if value is not None:
        return str(resolve_user_path(value, ROOT))
    default = ROOT / DEFAULT_MODEL
    return str(default) if (default / "toxic_tagger.json").is_file() else None


def train_settings(params) -> dict:
    """The train stage's settings a training side needs (plain JSON for child processes)."""
    train = params.train
    return {"lr": train.lr, "head_lr": train.head_lr, "weight_decay": train.weight_decay,
            "warmup_fraction": train.warmup_fraction, "pos_weight_power": train.pos_weight_power,
            "cls_only_last_layer": train.cls_only_last_layer, "freeze_embeddings": train.freeze_embeddings,
            "fast_dropout": train.fast_dropout, "layer_lr_decay": train.layer_lr_decay, "precision": train.precision,
            "max_tokens_per_batch": train.max_tokens_per_batch, "max_batch_size": train.max_batch_size,
            "dropout": {"hidden_dropout": params.model.hidden_dropout,
                        "attention_dropout": params.model.attention_dropout}}


def build_config(args: argparse.Namespace, params, comments_path: Path) -> dict:
    """The plain dict every part receives (JSON, so child processes can read it)."""
    return {
        "root": str(ROOT), "seed": params.seed, "comments": str(comments_path), "max_length": args.max_length,
        "threads": params.threads if args.threads is None else args.threads,
        "train_model": args.train_model or params.model.name,
        "predict_model": resolve_predict_model(args.model, args.base_model),
        "matmul_sizes": args.matmul_sizes, "matmul_reps": args.matmul_reps, "probe_seconds": args.probe_seconds,
        "train": {**train_settings(params), "tutorial_batch_size": args.tutorial_batch_size,
                  "steps_limit": args.train_steps_limit, "warmup_steps": args.warmup_steps},
        "predict": {"max_tokens_per_batch": params.evaluate.max_tokens_per_batch, "max_batch_size": 256,
                    "tutorial_comments": args.tutorial_predict_comments or args.predict_comments},
    }


def run_part(name: str, cfg: dict, workdir: Path, in_process: bool) -> dict:
    """One measured part, in a fresh child process unless `in_process`."""
    print(f"[bench] {name} ...", file=sys.stderr, flush=True)
    if in_process:
        import bench_child

        return bench_child.run_part(name, cfg)
    config_path, result_path = workdir / "config.json", workdir / f"{name}.json"
    config_path.write_text(json.dumps(cfg), encoding="utf-8")
    command = [sys.executable, str(HERE / "bench_child.py"), name, str(config_path), str(result_path)]
    done = subprocess.run(command, check=False)  # its output streams through; failure handled below
    if done.returncode != 0:
        raise SystemExit(f"error: benchmark part {name!r} failed (exit {done.returncode}); see its output above")
    return json.loads(result_path.read_text(encoding="utf-8"))


def compare_predictions(prediction: dict, labels: np.ndarray) -> dict:
    """AUROC of torch fp32 vs each faster path on the labeled sample, and how far each path's
    outputs move from fp32. Keys: fp32_mean, <path>_mean, <path>_per_tag, delta_mean (torch
    int8), max_abs_prob_diff_<path>_vs_fp32."""
    probs = {name: np.asarray(prediction[name].pop("probs"), dtype=np.float64) for name in prediction}
    auroc = {name: per_tag_auroc(labels, probs[name]) for name in ("fp32", *FAST_PATHS)}
    mean = lambda a: float(np.nanmean(a)) if np.isfinite(a).any() else None
    out = {"fp32_per_tag": dict(zip(LABELS, auroc["fp32"].tolist())), "fp32_mean": mean(auroc["fp32"])}
    for name in FAST_PATHS:
        out[f"{name}_per_tag"] = dict(zip(LABELS, auroc[name].tolist()))
        out[f"{name}_mean"] = mean(auroc[name])
        out[f"max_abs_prob_diff_{name}_vs_fp32"] = float(np.abs(probs[name] - probs["fp32"]).max())
    out["delta_mean"] = None if None in (out["fp32_mean"], out["int8_mean"]) else out["int8_mean"] - out["fp32_mean"]
    subset = len(probs["tutorial"])
    out["max_abs_prob_diff_tutorial_vs_fp32"] = float(np.abs(probs["tutorial"] - probs["fp32"][:subset]).max())
    return out


def measure(cfg: dict, comments: dict, in_process: bool) -> dict:
    """Run every part; matmul runs first and last so drift from other load shows."""
    with tempfile.TemporaryDirectory(prefix="toxic-bench-") as tmp:
        run = lambda name: run_part(name, cfg, Path(tmp), in_process)
        done = {name: run(name) for name in PARTS}
        done["matmul_end"] = run("matmul")
    prediction = {name: done[f"predict_{name}"] for name in ("tutorial", "fp32", *FAST_PATHS)}
    prediction["auroc"] = compare_predictions(prediction, np.asarray(comments["predict"]["labels"]))
    start, end = done["matmul"]["flops_per_s"], done["matmul_end"]["flops_per_s"]
    return {
        "matmul": {"peak_flops_per_s": max(start["peak"], end["peak"]), "start": start, "end": end,
                   "threads": done["matmul"]["threads"]},
        "tokenization": done["tokenize"],
        "training": {"tutorial": done["train_tutorial"], "toxic_tagger": done["train_toxic_tagger"],
                     "toxic_tagger_bf16": done["train_toxic_tagger_bf16"],
                     **{f"toxic_tagger_{param}_flipped": done[f"train_toxic_tagger_{param}_flipped"]
                        for param in FLIPPED}},
        "prediction": prediction,
    }


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    started = cpu_snapshot()
    params = load_params(args.params)
    frame, data = load_frame(args.data, args.train_comments + args.predict_comments, params.seed)
    comments = select_comments(frame, args.train_comments, args.predict_comments, params.seed)
    with tempfile.TemporaryDirectory(prefix="toxic-bench-data-") as tmp:
        comments_path = Path(tmp) / "comments.json"
        comments_path.write_text(json.dumps(comments), encoding="utf-8")
        cfg = build_config(args, params, comments_path)
        machine = describe_machine(cfg["threads"])
        results = {"machine": machine, "settings": {k: v for k, v in cfg.items() if k != "comments"},
                   "data": {**data, "train_comments": args.train_comments, "predict_comments": args.predict_comments},
                   **measure(cfg, comments, args.in_process), "load_average_end": load_average()}
    results["other_processes_cores"] = other_processes_cores(started, cpu_snapshot())
    results["summary"] = summary_rows(results)
    results["notes"] = notes(args, cfg, data, results)
    write_json(args.output, finite(results))
    print(report_text(results, args.output))
    return results


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
    main()
