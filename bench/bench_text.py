"""The bench run as text: the fixed-width table of `bench_report.summary_rows`, the notes a reader
needs to judge the numbers, and strict-JSON cleaning of the results."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from bench_report import ONNXRUNTIME_PATHS


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "%":
        return f"{value:.1%}"
    if unit == "auroc":
        return f"{value:.4f}"
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def _ratio_text(row: dict) -> str:
    if row["ratio"] is None:
        return "n/a"
    return f"{row['ratio']:+.4f}" if row["unit"] == "auroc" else f"{row['ratio']:.2f}x"


def format_table(rows: list[dict], left: str = "tutorial", left_key: str = "tutorial") -> str:
    """Fixed-width text table, one line per row; the left column is `left`, read from row[left_key]."""
    header = ("metric", left, "toxic-tagger", "ratio", "target", "met")
    lines = [(r["metric"], _value(r[left_key], r["unit"]), _value(r["toxic_tagger"], r["unit"]),
              _ratio_text(r), r["target"], {True: "yes", False: "NO", None: ""}[r["met"]]) for r in rows]
    widths = [max(len(str(line[i])) for line in [header, *lines]) for i in range(len(header))]
    fmt = lambda cells: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                                  for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    rule = "-" * len(fmt(header))
    return "\n".join([fmt(header), rule, *map(fmt, lines)])


def exported_provenance(directory: str) -> str:
    """What the exported model was trained on, from its toxic_tagger.json."""
    meta = json.loads((Path(directory) / "toxic_tagger.json").read_text(encoding="utf-8"))
    return (f"trained on data_source={meta.get('data_source', '?')}, max_length={meta.get('max_length', '?')}; "
            "the benchmark truncates at --max-length for every path")


def notes(args: argparse.Namespace, cfg: dict, data: dict, results: dict) -> list[str]:
    """What a reader needs to judge the numbers."""
    out = [
        f"data: {data['kind']} comments ({data.get('path') or 'synthetic sample; missing ' + data['missing']})",
        ("training harness: both sides run ToxicClassifier through the same Lightning Trainer settings as the "
         "train stage (deterministic, automatic optimization; no checkpoints/loggers/validation), timed by a "
         "callback from on_train_batch_start to on_train_batch_end (forward+backward+AdamW step); the first "
         f"{args.warmup_steps} step(s) per side are left out"),
        ("efficiency counts FLOPs of real (non-pad) tokens only, over the fp32 matmul peak probed alongside each "
         f"part (training: after every {cfg['probe_seconds']:g} s of timed steps; prediction: right before and "
         "after the timed call; each timed second weighted by the mean of the probes around it, probe time left "
         "out); the 'vs run's start/end' rows use the best of the first and last probes of the run instead"),
        probe_spread(results),
        ("toxic-tagger's paths run the last layer for [CLS] only (cls_only.py) and, with train.freeze_embeddings, "
         "skip the first layer's input gradient: the credited count follows the formula for every token; the "
         "'on executed FLOPs' rows count only what ran"),
    ]
    if args.train_steps_limit:
        out.append(f"training limited to {args.train_steps_limit} steps per side (quick run, not the full set)")
    tutorial_n, total = cfg["predict"]["tutorial_comments"], args.predict_comments
    if tutorial_n < total:
        out.append(f"tutorial prediction measured on the first {tutorial_n} of the {total} sampled comments")
    if cfg["predict_model"] is None:
        out.append("prediction model: base model with a RANDOM head (no exported model): AUROC is meaningless")
    else:
        out.append(f"prediction model: {cfg['predict_model']} ({exported_provenance(cfg['predict_model'])})")
    built = {label: results["prediction"][key] for key, label, _ in ONNXRUNTIME_PATHS if key in results["prediction"]}
    if built:
        out.append("onnxruntime paths: graph build (load + export + fuse + quantize, in seconds) timed apart, not in "
                   "the throughput: " + ", ".join(f"{label.split(' (')[0]} {r['build_seconds']:.1f} s"
                                                  for label, r in built.items()))
    if args.in_process:
        out.append("--in-process: peak memory is cumulative over the parts, not per path")
    others, cores = results["other_processes_cores"], results["machine"]["cores_available"]
    busy = "BUSY, numbers are noisy and low" if others > 0.25 else "quiet"
    out.append(f"machine {busy}: other processes kept {others:.2f} of {cores} cores busy on average during the run "
               f"(1-min load before it started: {results['machine']['load_average_start'][0]:.2f})")
    return out


def probe_spread(results: dict) -> str:
    """One line: how far the matmul probes of each part ranged, and the peak each was judged by."""
    parts = [*results["training"].items(), *((f"predict {k}", v) for k, v in results["prediction"].items()
                                            if isinstance(v, dict) and "flops_per_s" in v)]
    text = [f"{name} {min(p) / 1e9:.0f}-{max(p) / 1e9:.0f} (matched {side['matched_peak_flops_per_s'] / 1e9:.0f}, "
            f"{len(p)} probes)" for name, side in parts
            if (p := side.get("peak_probes_flops_per_s")) and side.get("matched_peak_flops_per_s")]
    return "matmul probes, GFLOP/s: " + ("; ".join(text) if text else "none (older results)")


def finite(value):
    """The results with NaN/inf replaced by None (strict JSON)."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def report_text(results: dict, output: Path) -> str:
    machine = results["machine"]
    peak = results["matmul"]["peak_flops_per_s"]
    head = (f"{machine['cpu_model']} | {machine['cores_available']} cores | torch threads {machine['torch_threads']} | "
            f"torch {machine['versions']['torch']} | fp32 matmul peak {peak / 1e9:.0f} GFLOP/s")
    lines = [head, "", format_table(results["summary"]), "", *(f"- {n}" for n in results["notes"]), "",
             f"wrote {output}"]
    return "\n".join(lines)
