"""Cost as the work grows: seconds and peak memory of every pipeline stage at several corpus sizes.

    python bench/bench_scaling.py                     # 10,000, 40,000 and 160,000 rows (~20 min on 2 cores)
    python bench/bench_scaling.py --rows 10000 40000  # other sizes
    python bench/bench_scaling.py --quick             # 2,000 and 4,000 rows, small caps (~2 min)

For each size it writes rows in the Jigsaw schema and the real length distribution
(bench_scaling_data.py) to a temporary folder, shrinks the repository's params.yaml for them
(fetch.source = that file, balance_split.clean_rows = null, train.epochs = 1 for the capped fit),
and runs each stage's library path (bench_scaling_parts.py) in a fresh child process, in pipeline
order, each reading what the one before wrote: fetch, balance_split, token_stats, baseline,
train (train_corpus: the work that grows with the corpus; train_fit: a capped fit, reported per
1,000 comments) and evaluate (the transformer on a capped sample, per 1,000 comments; the rest
on the whole splits). It prints a table (stage x rows: seconds, peak MiB), the growth exponent
of each stage between sizes (log time ratio / log row ratio: 1 = linear), the train and
evaluate stages' full cost projected from the per-1,000 rates, and writes bench/scaling.json
with the machine description and load.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "src")]

from bench_machine import cpu_snapshot, describe_machine, load_average, other_processes_cores  # noqa: E402
from bench_scaling_data import REAL, real_like_rows  # noqa: E402
from bench_scaling_parts import PARTS, run_part  # noqa: E402

from toxic_tagger.atomic_files import write_csv, write_json  # noqa: E402

SUPERLINEAR = 1.15  # a growth exponent above this is flagged
QUICK = {"rows": [2000, 4000], "train_comments": 64, "val_comments": 64, "score_comments": 64}


def shrunk_params(source: Path, threads: int, model: str | None) -> dict:
    """The repository's params.yaml with the benchmark's changes (module docstring)."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["threads"] = threads
    params["fetch"].update(source=str(source), sha256=None)
    params["balance_split"]["clean_rows"] = None
    params["train"].update(epochs=1, accelerator="cpu", devices=1)
    if model:
        params["model"]["name"] = model
    return params


def run_child(name: str, cfg: dict, folder: Path, in_process: bool) -> dict:
    """Part `name` in a fresh process (its own peak RSS), or here with `in_process`."""
    started = time.perf_counter()
    if in_process:
        result = run_part(name, cfg)
    else:
        config, out = folder / f"{name}.config.json", folder / f"{name}.result.json"
        write_json(config, cfg)
        done = subprocess.run([sys.executable, str(HERE / "bench_scaling_parts.py"), name, str(config), str(out)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"part {name} failed:\n{done.stderr[-3000:]}")
        result = json.loads(out.read_text(encoding="utf-8"))
    return {**result, "process_seconds": round(time.perf_counter() - started, 2)}


def measure_size(rows: int, args: argparse.Namespace, tmp: Path) -> dict:
    """Every part on `rows` rows; their results by part name, plus the rows' origin."""
    work = tmp / f"rows-{rows}"
    work.mkdir(parents=True, exist_ok=True)
    frame, origin = real_like_rows(rows, args.seed, args.source)
    write_csv(work / "source.csv", frame)  # plain CSV, as the competition's train.csv
    del frame
    (work / "params.yaml").write_text(yaml.safe_dump(shrunk_params(work / "source.csv", args.threads, args.model)))
    cfg = {"params": str(work / "params.yaml"), "work": str(work), "threads": args.threads,
           "train_comments": args.train_comments, "val_comments": args.val_comments,
           "score_comments": args.score_comments}
    results: dict = {"rows": rows, "origin": origin, "parts": {}}
    for name in args.parts:
        results["parts"][name] = part = run_child(name, cfg, work, args.in_process)
        print(f"  {rows:>7,} rows  {name:<14} {part['seconds']:>8.1f} s  {part['peak_rss_mb']:>7.0f} MiB peak",
              flush=True)
    return results


def exponent(small: float, large: float, rows_small: int, rows_large: int) -> float | None:
    """Growth exponent k in cost ~ rows**k between two sizes (None when a cost is ~0)."""
    if small <= 0.05 or large <= 0:
        return None
    return round(math.log(large / small) / math.log(rows_large / rows_small), 2)


def growth(sizes: list[dict], name: str) -> dict:
    """Exponents of part `name` between consecutive sizes: time, and memory above the start."""
    out = {"time": [], "memory": []}
    for a, b in zip(sizes, sizes[1:]):
        pa, pb = a["parts"][name], b["parts"][name]
        out["time"].append(exponent(pa["seconds"], pb["seconds"], a["rows"], b["rows"]))
        grown = [p["peak_rss_mb"] - p["rss_start_mb"] for p in (pa, pb)]
        out["memory"].append(exponent(max(grown[0], 0.06), grown[1], a["rows"], b["rows"]))
    return out


def projections(size: dict, epochs: int) -> dict:
    """Seconds of the whole train and evaluate stages on this size, from the capped parts."""
    parts = size["parts"]
    if not {"train_corpus", "train_fit", "evaluate"} <= parts.keys():
        return {}
    corpus, fit, ev = parts["train_corpus"], parts["train_fit"], parts["evaluate"]
    score = ev["transformer_seconds_per_1000"] / 1000
    train_epoch = fit["step_seconds_per_1000"] / 1000 * corpus["train_rows"] + score * corpus["val_rows"]
    fixed_fit = fit["steps"]["fit_and_export"] - fit["fit_seconds"]  # load, export, blend, thresholds
    evaluate = ev["seconds"] - ev["steps"]["transformer_scores"] + score * (ev["test_rows"] + ev["val_rows"])
    return {"train_seconds": round(corpus["seconds"] + fixed_fit + epochs * train_epoch, 1),
            "train_epoch_seconds": round(train_epoch, 1), "evaluate_seconds": round(evaluate, 1)}


def print_table(sizes: list[dict], names: list[str]) -> None:
    pairs = [f"{a['rows']:,}->{b['rows']:,}" for a, b in zip(sizes, sizes[1:])]
    print(f"\n{'rows':<16}" + "".join(f"{s['rows']:>19,}" for s in sizes) + "   growth exponents (time | memory): "
          + ", ".join(pairs))
    print(f"{'stage':<16}{'seconds  peak MiB'.rjust(19) * len(sizes)}")
    for name in names:
        cells = "".join(f"{s['parts'][name]['seconds']:>10.1f}{s['parts'][name]['peak_rss_mb']:>9.0f}" for s in sizes)
        g = growth(sizes, name)
        flag = lambda k: "  -  " if k is None else f"{k:5.2f}" + ("!" if k > SUPERLINEAR else " ")  # noqa: E731
        print(f"{name:<16}{cells}   {' '.join(flag(k) for k in g['time'])} | {' '.join(flag(k) for k in g['memory'])}")
    rates = [("train_fit", "step_seconds_per_1000", "train steps, s per 1,000 comments"),
             ("evaluate", "transformer_seconds_per_1000", "transformer scoring, s per 1,000 comments")]
    for part, key, label in rates:
        if part in names:
            print(f"{label:<44}" + "".join(f"{s['parts'][part][key]:>10.1f}" for s in sizes))
    for key, label in (("train_seconds", "projected train stage (s)"), ("evaluate_seconds", "projected evaluate stage (s)")):
        if all(key in s["projected"] for s in sizes):
            print(f"{label:<44}" + "".join(f"{s['projected'][key]:>10.0f}" for s in sizes))
    print(f"exponent: log(time ratio) / log(row ratio), 1 = linear, '!' above {SUPERLINEAR}; memory: peak above the"
          " part's RSS after imports")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def library_version() -> str:
    """The commit of src/ this run measured, and whether src/ had uncommitted changes."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" + uncommitted changes in src/" if git("status", "--porcelain", "--", "src") else "")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=positive_int, nargs="+", help="corpus sizes (default 10000 40000 160000)")
    parser.add_argument("--quick", action="store_true", help=f"rows {QUICK['rows']}, caps of 64 comments")
    parser.add_argument("--source", type=Path, default=REAL, help="comment CSV to resample (default: the real sample)")
    parser.add_argument("--model", help="model.name override (default: params.yaml's)")
    parser.add_argument("--parts", nargs="+", choices=list(PARTS), default=list(PARTS))
    parser.add_argument("--train-comments", type=positive_int, default=1024, help="train rows the capped fit trains on")
    parser.add_argument("--val-comments", type=positive_int, default=256, help="val rows the capped fit validates on")
    parser.add_argument("--score-comments", type=positive_int, default=1024, help="test rows evaluate runs the transformer on")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = every available core)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--in-process", action="store_true", help="no child processes (fast; memory cumulative)")
    parser.add_argument("--work", type=Path, help="keep every size's files here (default: a temporary folder); a "
                        "later run with --parts reuses the outputs of the parts it leaves out")
    parser.add_argument("--output", type=Path, default=HERE / "scaling.json")
    args = parser.parse_args(argv)
    args.rows = args.rows or (QUICK["rows"] if args.quick else [10_000, 40_000, 160_000])
    if args.quick:
        for key in ("train_comments", "val_comments", "score_comments"):
            setattr(args, key, min(getattr(args, key), QUICK[key]))
    machine, before = describe_machine(args.threads), cpu_snapshot()
    epochs = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))["train"]["epochs"]
    sizes = []
    with tempfile.TemporaryDirectory(prefix="toxic-scaling-") as tmp:
        for rows in sorted(args.rows):
            size = measure_size(rows, args, args.work or Path(tmp))
            size["projected"] = projections(size, epochs)
            sizes.append(size)
    machine.update(load_average_end=load_average(), other_processes_cores=other_processes_cores(before, cpu_snapshot()))
    print_table(sizes, args.parts)
    print(f"rows: {sizes[0]['origin']}; capped: train_fit {args.train_comments} train + {args.val_comments} val "
          f"comments, 1 epoch; evaluate's transformer {args.score_comments} test comments (projections: "
          f"params.yaml's {epochs} epochs)")
    print(f"machine: {machine['cpu_model']}, {machine['cores_available']} cores; load {machine['load_average_start']}"
          f" -> {machine['load_average_end']}; other processes kept {machine['other_processes_cores']} cores busy")
    growths = {name: growth(sizes, name) for name in args.parts}
    report = {"library": library_version(), "machine": machine, "caps": {k: getattr(args, k) for k in ("train_comments", "val_comments", "score_comments")},
              "projection_epochs": epochs, "sizes": sizes, "growth_exponents": growths}
    write_json(args.output, report)
    return report


if __name__ == "__main__":
    main()
