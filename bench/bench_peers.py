"""Benchmark against what users would pick instead: the Hugging Face Trainer and transformers.pipeline.

    make bench-peers                                # full size: the real recipe's split (make repro-real's params)
    python bench/bench_peers.py --quick             # tiny sizes, a smoke run (about 2 minutes)
    python bench/bench_peers.py --help              # every option

In one run on one machine, on the same comments (split as the `split` stage does, from the shared
real Jigsaw file, else the synthetic sample; -S KEY=VALUE overrides params.yaml like `dvc exp run -S`):
- training (peers_train.py vs peers_trainer.py): the train stage's fit vs the Trainer recipe, on
  the same train and val comments, model, max_length, epochs and seed, in fp32 and, on CPUs with
  bf16 units, bf16 (each side in the same precision): samples/s, real tokens/s, peak RSS and
  val mean AUROC after the same number of epochs;
- prediction (peers_predict.py): `toxic-tagger predict` on torch fp32 and on the fastest runtime
  measured (at transformer AUROC parity) vs transformers.pipeline, as whole processes (start to
  exit, model load included) and in steady state, on labeled comments of the test split.
Each part runs in a fresh child process (bench_child.py), so its peak RSS is its own. Prints a
table (metric, peer, toxic-tagger, ratio, target, met) and a GAP line per missed speed target
naming the phases that fall short; writes everything to --output (default bench/peers.json).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "src")]

import numpy as np
import pandas as pd
import yaml
from bench import DEFAULT_DATA, load_frame, run_part
from bench_machine import cpu_snapshot, describe_machine, load_average, other_processes_cores
from bench_text import finite
from peers_predict import pipeline_command, toxic_tagger_command, whole_process
from peers_report import AUROC_TOLERANCE, report_text, summary
from peers_settings import notes, settings

from toxic_tagger import LABELS, TEXT_COLUMN
from toxic_tagger.atomic_files import write_json
from toxic_tagger.config import load_params
from toxic_tagger.evaluate.metrics import per_tag_auroc
from toxic_tagger.paths import resolve_user_path
from toxic_tagger.predict.runtimes import RUNTIMES

DEFAULT_MODEL = "models/toxic-tagger"
# --quick: sizes for a smoke run; the full run's defaults are the recipe's whole split, 1,000
# predicted comments, params.yaml's epochs and max_length, and every precision and runtime.
QUICK = {"train_comments": 96, "val_comments": 64, "predict_comments": 64, "epochs": 1, "max_length": 64,
         "precisions": ["fp32"], "runtimes": ["torch", "openvino", "openvino-bf16"]}
FULL = {"predict_comments": 1000}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--params", type=Path, default=ROOT / "params.yaml")
    add("-S", "--set", action="append", default=[], metavar="KEY=VALUE",
        help="override a params.yaml key, as `dvc exp run -S` does (e.g. -S model.max_length=256)")
    add("--data", default=DEFAULT_DATA, help="Jigsaw CSV(.gz); the synthetic sample if the file is absent")
    add("--train-comments", type=int, help="seeded sample of the train split (default: all of it)")
    add("--val-comments", type=int, help="seeded sample of the val split (default: all of it)")
    add("--predict-comments", type=int, help="seeded sample of the test split (default 1000)")
    add("--epochs", type=int, help="both sides (default: train.epochs)")
    add("--max-length", type=int, help="training, both sides (default: model.max_length); prediction uses the export's")
    add("--precisions", nargs="+", choices=("fp32", "bf16"), help="default: fp32, and bf16 on CPUs with bf16 units")
    add("--runtimes", nargs="+", choices=RUNTIMES, help="toxic-tagger runtimes measured in steady state "
        "(default: all, bf16 ones on CPUs with bf16 units); the fastest at parity also runs as a whole process")
    add("--model", help=f"exported model for prediction (default: {DEFAULT_MODEL} if exported, else the one the "
        "toxic-tagger fp32 training part trains, exported without a baseline)")
    add("--threads", type=int, help="torch threads, every side (default: params.yaml threads; 0 = all cores)")
    add("--quick", action="store_true", help="tiny sizes: " + ", ".join(f"{k}={v}" for k, v in QUICK.items()))
    add("--in-process", action="store_true", help="no child processes for the in-process parts (peak RSS cumulative)")
    add("--output", type=Path, default=HERE / "peers.json")
    args = parser.parse_args(argv)
    for key, value in {**FULL, **(QUICK if args.quick else {})}.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def bench_params_file(args: argparse.Namespace, workdir: Path):
    """params.yaml with -S overrides, --epochs and --max-length, written to `workdir` and
    validated by the project's loader: (typed params, path)."""
    data = yaml.safe_load(args.params.read_text(encoding="utf-8"))
    sets = list(args.set)
    sets += [f"train.epochs={args.epochs}"] if args.epochs else []
    sets += [f"model.max_length={args.max_length}"] if args.max_length else []
    for item in sets:
        key, sep, value = item.partition("=")
        section, _, name = key.partition(".")
        if not sep or (name and not isinstance(data.get(section), dict)):
            raise SystemExit(f"error: -S {item!r}: expected SECTION.KEY=VALUE with a section of {args.params}")
        (data[section] if name else data)[name or key] = yaml.safe_load(value)
    path = workdir / "params.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_params(path), path


def select_comments(params, args: argparse.Namespace) -> tuple[dict, dict]:
    """The split stage's train / val / test of the data, each sampled down when asked: the train
    and val comments of both training sides and the predicted (labeled) comments."""
    from toxic_tagger.data.split import make_splits

    frame, data = load_frame(args.data, params.fetch.sample_rows, params.seed)
    splits = make_splits(frame, params.balance_split, params.seed)
    rng = np.random.default_rng(params.seed)
    out = {}
    for name, part, wanted in (("train", splits.train, args.train_comments), ("val", splits.val, args.val_comments),
                               ("predict", splits.test, args.predict_comments)):
        everything = wanted is None or wanted >= len(part)
        rows = np.arange(len(part)) if everything else np.sort(rng.permutation(len(part))[:wanted])
        out[name] = {"texts": part[TEXT_COLUMN].iloc[rows].tolist(),
                     "labels": part.loc[:, list(LABELS)].iloc[rows].to_numpy(dtype=int).tolist()}
    return out, {**data, **{f"{name}_comments": len(out[name]["texts"]) for name in out}}


def mean_auroc(labels: np.ndarray, probs) -> float | None:
    values = per_tag_auroc(labels, np.asarray(probs, dtype=np.float64))
    return float(np.nanmean(values)) if np.isfinite(values).any() else None


def fastest_runtime(runtimes: dict, pipeline_auroc: float | None) -> str:
    """The runtime with the most steady-state comments/s among those whose transformer AUROC is
    within the tolerance of the pipeline's (torch when none is)."""
    def at_parity(r):
        ours = runtimes[r]["auroc_transformer"]
        return pipeline_auroc is None or (ours is not None and abs(ours - pipeline_auroc) <= AUROC_TOLERANCE)
    return max((r for r in runtimes if at_parity(r)), key=lambda r: runtimes[r]["comments_per_s"], default="torch")


def measure_training(cfg: dict, precisions: list[str], run) -> dict:
    return {p: {"toxic_tagger": run(f"peers_train_toxic_tagger_{p}"), "trainer": run(f"peers_train_trainer_{p}")}
            for p in precisions}


def measure_prediction(cfg: dict, comments: dict, runtimes: list[str], run, workdir: Path) -> dict:
    """Steady state for the pipeline and each runtime, then whole processes for the pipeline, torch
    and the fastest runtime, on one CSV of the predicted comments."""
    labels = np.asarray(comments["predict"]["labels"])
    pipe = run("peers_predict_pipeline")
    pipe_probs = np.asarray(pipe.pop("transformer_probs"))
    pipe["auroc_transformer"] = mean_auroc(labels, pipe_probs)
    measured = {}
    for runtime in runtimes:
        side = run(f"peers_predict_{runtime}")
        transformer = np.asarray(side.pop("transformer_probs"))
        side.update(auroc_transformer=mean_auroc(labels, transformer),
                    auroc_final=mean_auroc(labels, side.pop("final_probs")),
                    max_abs_prob_diff_vs_pipeline=float(np.abs(transformer - pipe_probs).max()))
        measured[runtime] = side
    fastest = fastest_runtime(measured, pipe["auroc_transformer"])
    source = workdir / "comments.csv"
    pd.DataFrame({"id": [f"c{i}" for i in range(len(labels))], TEXT_COLUMN: comments["predict"]["texts"]}).to_csv(
        source, index=False)
    from toxic_tagger.runtime import available_cores

    model, threads = cfg["predict_model"], cfg["threads"] or available_cores()  # the same number on both sides
    commands = {"pipeline": pipeline_command(model, source, workdir / "pipeline.csv", threads, pipe["max_length"]),
                **{r: toxic_tagger_command(model, r, source, workdir / f"{r}.csv", threads, cfg["cache_dir"])
                   for r in dict.fromkeys(("torch", fastest))}}
    whole = {name: whole_process(name, command, cfg["root"], workdir / f"{name}.log")
             for name, command in commands.items()}
    scored = {name: pd.read_csv(workdir / f"{name}.csv")[list(LABELS)].to_numpy() for name in whole}
    return {"pipeline": pipe, "runtimes": measured, "fastest_runtime": fastest, "whole_process": whole,
            "auroc": {"pipeline": pipe["auroc_transformer"],
                      "runtimes": {r: {"transformer": s["auroc_transformer"], "final": s["auroc_final"]}
                                   for r, s in measured.items()},
                      "whole_process": {name: mean_auroc(labels, probs) for name, probs in scored.items()}}}


def resolve_model(args: argparse.Namespace, workdir: Path) -> tuple[str, str | None]:
    """(exported model for prediction, where the fp32 training part should export one or None)."""
    if args.model:
        return str(resolve_user_path(args.model, ROOT)), None
    if (ROOT / DEFAULT_MODEL / "toxic_tagger.json").is_file():
        return str(ROOT / DEFAULT_MODEL), None
    if "fp32" not in args.precisions:
        raise SystemExit(f"error: no {DEFAULT_MODEL}: give --model, or include fp32 in --precisions to train one")
    return str(workdir / "trained-export"), str(workdir / "trained-export")


def default_choices(args: argparse.Namespace) -> None:
    """Precisions and runtimes not given: bf16 ones only on CPUs with bf16 units; torch always runs."""
    from toxic_tagger.model.precision import native_bf16

    bf16 = native_bf16()
    args.precisions = args.precisions or (["fp32", "bf16"] if bf16 else ["fp32"])
    args.runtimes = args.runtimes or [r for r in RUNTIMES if bf16 or not r.endswith("bf16")]
    args.runtimes = list(dict.fromkeys(["torch", *args.runtimes]))


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    default_choices(args)
    started = cpu_snapshot()
    with tempfile.TemporaryDirectory(prefix="toxic-bench-peers-") as tmp:
        workdir = Path(tmp)
        params, params_file = bench_params_file(args, workdir)
        comments, data = select_comments(params, args)
        (workdir / "comments.json").write_text(json.dumps(comments), encoding="utf-8")
        model, export_to = resolve_model(args, workdir)
        cfg = {"root": str(ROOT), "comments": str(workdir / "comments.json"), "params_file": str(params_file),
               "threads": params.threads if args.threads is None else args.threads, "predict_model": model,
               "export_to": export_to, "cache_dir": str(workdir / "cache"), "max_tokens_per_batch": 2048}
        run = lambda name: run_part(name, cfg, workdir, args.in_process)
        results = {"machine": describe_machine(cfg["threads"]), "data": data,
                   "settings": settings(args, params, cfg),
                   "training": measure_training(cfg, args.precisions, run),
                   "prediction": measure_prediction(cfg, comments, args.runtimes, run, workdir)}
    results.update(load_average_end=load_average(),
                   other_processes_cores=other_processes_cores(started, cpu_snapshot()))
    results["summary"], results["gaps"] = summary(results)
    results["notes"] = notes(args, results)
    write_json(args.output, finite(results))
    print(report_text(results, args.output))
    return results


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
    main()
