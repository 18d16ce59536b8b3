"""Interleaved A/B of the train stage's speed params, in one process.

    make bench-params                              # 1,024 real comments, max_length 512
    python bench/bench_params.py --train-comments 64 --steps 6   # a quick look

`bench.py` runs toxic-tagger's training once with each param flipped, one run after the
other; on a machine whose speed drifts between two consecutive runs, that cannot resolve a
lever worth a few percent. Here, for each param in `COMPARED` (the boolean ones of
`bench_report.FLIPPED`, and `train.precision` bf16 against fp32), two `ToxicClassifier`s
are built from the same seed, one with `train.<param>` on and one off, and every training batch
(the `train` stage's length-bucketed batches of the same comments) is run through both, one
step each, in alternating order, so drift hits both sides alike.
A step is forward, BCE loss, backward, fused AdamW step and zero_grad, under
`torch.use_deterministic_algorithms(True)` as Lightning's `deterministic=True` runs it (no LR
schedule or logging: the same small cost on both sides); a bf16 side runs forward and loss under
bf16 autocast, as Lightning's "bf16-mixed" does. The first `--warmup-steps` batches
are left out. Prints, per param, seconds on and off and their ratio (off / on: above 1 means
the param saves time), and the median of the per-batch ratios; writes --output. On a CPU
without bf16 units precision is left out unless named in `--compare` (emulated bf16 is
several times slower, and its row is then marked EMULATED).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "src")]

import numpy as np
import torch
from bench_machine import describe_machine
from bench_report import FLIPPED
from bench_train import toxic_tagger_data, toxic_tagger_module

from bench import add_shared_options, load_frame, select_comments, train_settings
from toxic_tagger.atomic_files import write_json
from toxic_tagger.config import load_params
from toxic_tagger.model.precision import autocast, native_bf16
from toxic_tagger.runtime import configure_threads, quiet_libraries

# Each compared param: (value "on", value "off"). On is the train stage's default for the
# booleans; for precision it is the faster choice on CPUs with bf16 units.
COMPARED = {**{param: (True, False) for param in FLIPPED}, "precision": ("bf16", "fp32")}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_shared_options(parser)  # the same comments as bench.py's training sides
    add = parser.add_argument
    add("--steps", type=int, default=None, help="batches per param (default: one epoch)")
    add("--warmup-steps", type=int, default=2, help="first batches left out of the timing")
    add("--compare", nargs="+", choices=sorted(COMPARED), default=None, dest="compared",
        help="default: all, precision only on a CPU with bf16 units")
    add("--output", type=Path, default=HERE / "params_ab.json")
    return parser.parse_args(argv)


def compared(requested: list[str] | None) -> list[str]:
    """The params to compare: `requested`, else every one of COMPARED (precision only where bf16 is native)."""
    return requested or [param for param in COMPARED if param != "precision" or native_bf16()]


def training_step(module, optimizer: torch.optim.Optimizer, batch: dict[str, torch.Tensor]) -> float:
    """One optimizer step on `batch` (forward and loss under the module's precision); its wall seconds."""
    started = time.perf_counter()
    with autocast(module.hparams.precision):
        loss, _ = module.model_step(batch)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return time.perf_counter() - started


def ab_param(cfg: dict, labels, batches: list[dict], param: str, warmup: int) -> dict:
    """Seconds per side (param on / off, values from COMPARED) over the same batches, stepped alternately."""
    values = COMPARED[param]
    sides = []
    for value in values:
        module = toxic_tagger_module({**cfg, "train": {**cfg["train"], param: value}}, labels)
        sides.append((module, torch.optim.AdamW(module.parameter_groups(), lr=cfg["train"]["lr"], fused=True)))
    seconds: list[list[float]] = [[], []]
    for index, batch in enumerate(batches):
        for side in (0, 1) if index % 2 == 0 else (1, 0):
            seconds[side].append(training_step(*sides[side], batch))
    on, off = seconds[0][warmup:], seconds[1][warmup:]
    emulated = param == "precision" and not native_bf16()
    return {"param": param, "on": values[0], "off": values[1], "emulated": emulated, "steps_timed": len(on),
            "seconds_on": sum(on), "seconds_off": sum(off), "speedup_off_over_on": sum(off) / sum(on),
            "median_step_ratio_off_over_on": statistics.median(b / a for a, b in zip(on, off))}


def training_batches(cfg: dict, texts: list[str], labels, steps: int | None) -> list[dict]:
    """The train stage's batches of these comments (length buckets under the token budget)."""
    data = toxic_tagger_data(cfg, texts, labels)
    data.setup("fit")
    batches = list(data.train_dataloader())
    return batches[:steps] if steps else batches


def check_enough(batches: list[dict], warmup: int) -> None:
    if len(batches) <= warmup:
        raise SystemExit(f"error: {len(batches)} training batches, all within --warmup-steps {warmup}; "
                         "use more --train-comments or fewer --warmup-steps")


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    params = load_params(args.params)
    quiet_libraries()
    threads = configure_threads(params.threads if args.threads is None else args.threads)
    torch.use_deterministic_algorithms(True)  # as Lightning's deterministic=True
    frame, data = load_frame(args.data, args.train_comments + 1, params.seed)
    picked = select_comments(frame, args.train_comments, 0, params.seed)["train"]
    labels = np.asarray(picked["labels"], dtype=np.float32)
    cfg = {"root": str(ROOT), "seed": params.seed, "max_length": args.max_length,
           "train_model": args.train_model or params.model.name, "train": train_settings(params)}
    batches = training_batches(cfg, picked["texts"], labels, args.steps)
    check_enough(batches, args.warmup_steps)
    rows = []
    for param in compared(args.compared):
        print(f"[bench-params] {param}: {len(batches)} batches, each through both sides ...", file=sys.stderr, flush=True)
        rows.append(ab_param(cfg, labels, batches, param, args.warmup_steps))
    results = {"machine": describe_machine(threads), "data": {**data, "train_comments": args.train_comments},
               "settings": {k: v for k, v in cfg.items() if k != "root"}, "params": rows}
    write_json(args.output, results)
    print(report(results, args.output))
    return results


def report(results: dict, output: Path) -> str:
    lines = [f"{results['machine']['cpu_model']} | torch threads {results['machine']['torch_threads']} | "
             f"{results['data']['kind']} comments, max_length {results['settings']['max_length']}", "",
             "param (on / off)                   steps  seconds off  seconds on  off/on  median step off/on"]
    for row in results["params"]:
        name = f"{row['param']} ({row['on']} / {row['off']})" + (" EMULATED" if row["emulated"] else "")
        lines.append(f"{name:<34} {row['steps_timed']:>5}  {row['seconds_off']:>11.1f}  {row['seconds_on']:>10.1f}"
                     f"  {row['speedup_off_over_on']:>5.3f}x  {row['median_step_ratio_off_over_on']:>8.3f}x")
    return "\n".join([*lines, "", f"wrote {output}"])


if __name__ == "__main__":
    main()
