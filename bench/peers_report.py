"""The peers bench as rows (metric, peer, toxic-tagger, ratio, target, met), one "gap" line per
missed speed target naming the phases that fall short, and the printed report. Targets come
from the issue "Benchmark against what users would pick instead"; reported, never asserted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from bench_text import format_table

TRAIN_SPEEDUP = 2.0  # toxic-tagger train samples/s over the Trainer's, each precision
PREDICT_FP32_SPEEDUP = 3.0  # toxic-tagger predict (torch fp32) comments/s over the pipeline's
PREDICT_FASTEST_SPEEDUP = 8.0  # the fastest runtime over the pipeline
AUROC_TOLERANCE = 0.002


@dataclass(frozen=True)
class Row:
    metric: str
    peer: float | None
    toxic_tagger: float | None
    ratio: float | None  # toxic_tagger / peer (a difference for AUROC rows)
    target: str
    met: bool | None
    unit: str = ""  # "", "MiB" or "auroc"


def speed_row(metric: str, peer: float, ours: float, minimum: float | None = None) -> Row:
    ratio = ours / peer if peer else None
    return Row(metric, peer, ours, ratio, f">= {minimum:g}x" if minimum else "",
               None if minimum is None or ratio is None else ratio >= minimum)


def auroc_row(metric: str, peer: float | None, ours: float | None, parity: bool) -> Row:
    """parity: |difference| within the tolerance; else toxic-tagger no worse than the peer by more."""
    diff = None if peer is None or ours is None else ours - peer
    target = f"|diff| <= {AUROC_TOLERANCE:g}" if parity else f"diff >= -{AUROC_TOLERANCE:g}"
    met = None if diff is None else (abs(diff) <= AUROC_TOLERANCE if parity else diff >= -AUROC_TOLERANCE)
    return Row(metric, peer, ours, diff, target, met, "auroc")


def rss_row(metric: str, peer: dict, ours: dict) -> Row:
    return Row(metric, peer["peak_rss_mb"], ours["peak_rss_mb"], ours["peak_rss_mb"] / peer["peak_rss_mb"], "",
               None, "MiB")


def gap_line(metric: str, ratio: float, minimum: float, peer: dict[str, float], ours: dict[str, float],
             names: tuple[str, str], per: str) -> str:
    """Which phases keep `metric` under `minimum`: per item, each side's ms per phase; a phase
    falls short when toxic-tagger spends more than 1/minimum of the peer's time on it."""
    cells = ", ".join(f"{phase} {peer[phase] * 1e3:.2f} | {ours[phase] * 1e3:.2f}" for phase in peer)
    short = sorted(((ours[p] - peer[p] / minimum) * 1e3, p) for p in peer if ours[p] > peer[p] / minimum)
    over = ", ".join(f"{phase} +{excess:.2f} ms" for excess, phase in reversed(short)) or "none alone (all close)"
    return (f"GAP {metric}: {ratio:.2f}x, target >= {minimum:g}x. ms per {per}, {names[0]} | {names[1]}: {cells}. "
            f"Over 1/{minimum:g} of the {names[0]}'s time: {over}")


def per_item(phases: dict[str, float], items: int, leave_out: tuple[str, ...] = ()) -> dict[str, float]:
    return {name: seconds / items for name, seconds in phases.items() if name not in leave_out}


def training_rows(training: dict, epochs: int, gaps: list[str]) -> list[Row]:
    rows = []
    for precision, sides in training.items():
        peer, ours = sides["trainer"], sides["toxic_tagger"]
        speed = speed_row(f"train samples/s, {precision} (validation left out)", peer["samples_per_s"],
                          ours["samples_per_s"], TRAIN_SPEEDUP)
        if speed.met is False:
            gaps.append(gap_line(speed.metric, speed.ratio, TRAIN_SPEEDUP,
                                 per_item(peer["phases"], peer["samples"], ("validation",)),
                                 per_item(ours["phases"], ours["samples"], ("validation",)),
                                 ("Trainer", "toxic-tagger"), "sample"))
        rows += [speed,
                 speed_row(f"train real tokens/s, {precision}", peer["real_tokens_per_s"], ours["real_tokens_per_s"]),
                 speed_row(f"train samples/s incl. validation, {precision}", peer["samples_per_s_incl_validation"],
                           ours["samples_per_s_incl_validation"]),
                 auroc_row(f"val mean AUROC after {epochs} epoch(s), {precision}", peer["val_mean_auroc"],
                           ours["val_mean_auroc"], parity=False),
                 rss_row(f"train peak RSS, {precision}", peer, ours)]
    return rows


def prediction_rows(prediction: dict, gaps: list[str]) -> list[Row]:
    pipe, runtimes, whole = prediction["pipeline"], prediction["runtimes"], prediction["whole_process"]
    fastest, n = prediction["fastest_runtime"], prediction["pipeline"]["comments"]
    roles = [("torch fp32", "torch", PREDICT_FP32_SPEEDUP), (f"fastest: {fastest}", fastest, PREDICT_FASTEST_SPEEDUP)]
    rows = []
    for label, runtime, minimum in roles:
        peer_s, ours_s = whole["pipeline"]["seconds"], whole[runtime]["seconds"]
        row = speed_row(f"predict comments/s, whole process (start to exit), {label}", n / peer_s, n / ours_s, minimum)
        if row.met is False:
            split = lambda total, steady: {"start, imports, load, file I/O": total - steady["seconds"],
                                           "scoring": steady["seconds"]}
            gaps.append(gap_line(row.metric, row.ratio, minimum, per_item(split(peer_s, pipe), n),
                                 per_item(split(ours_s, runtimes[runtime]), n), ("pipeline", "toxic-tagger"),
                                 "comment"))
        rows.append(row)
    for label, runtime, minimum in roles:
        row = speed_row(f"predict comments/s, steady state, {label}", pipe["comments_per_s"],
                        runtimes[runtime]["comments_per_s"], minimum)
        if row.met is False:
            gaps.append(gap_line(row.metric, row.ratio, minimum, per_item(pipe["phases"], n),
                                 per_item(runtimes[runtime]["phases"], n), ("pipeline", "toxic-tagger"), "comment"))
        rows.append(row)
    others = [r for r in runtimes if r not in ("torch", fastest)]
    rows += [speed_row(f"predict comments/s, steady state, {r}", pipe["comments_per_s"], runtimes[r]["comments_per_s"])
             for r in others]
    auroc = prediction["auroc"]
    rows += [auroc_row(f"mean AUROC of the output file, pipeline -> {label}", auroc["whole_process"]["pipeline"],
                       auroc["whole_process"][runtime], parity=False) for label, runtime, _ in roles]
    rows += [auroc_row(f"transformer parity: mean AUROC pipeline -> {r}", auroc["pipeline"],
                       auroc["runtimes"][r]["transformer"], parity=True) for r in runtimes]
    rows += [rss_row(f"predict peak RSS, whole process, {label}", whole["pipeline"], whole[runtime])
             for label, runtime, _ in roles]
    return rows


def summary(results: dict) -> tuple[list[dict], list[str]]:
    """(rows as dicts, gap lines) of a results dict."""
    gaps: list[str] = []
    rows = [*training_rows(results["training"], results["settings"]["epochs"], gaps),
            *prediction_rows(results["prediction"], gaps)]
    return [asdict(row) for row in rows], gaps


def report_text(results: dict, output) -> str:
    machine = results["machine"]
    head = (f"{machine['cpu_model']} | {machine['cores_available']} cores | torch threads {machine['torch_threads']} | "
            f"bf16 units: {'yes' if results['settings']['native_bf16'] else 'no'} | "
            f"torch {machine['versions']['torch']}, transformers {machine['versions']['transformers']}")
    return "\n".join([head, "", format_table(results["summary"], left="peer", left_key="peer"), "",
                      *results["gaps"], "", *(f"- {note}" for note in results["notes"]), "", f"wrote {output}"])
