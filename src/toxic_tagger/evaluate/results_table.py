"""Per-tag Markdown results tables of metrics files in metrics/eval.json's layout.

    toxic-tagger table metrics/eval.json metrics/baseline.json [--split val]

`metrics_table(report)` renders one split's report (evaluate.metrics.split_report layout);
`metrics_tables(paths, split)` reads every file first, so a bad one prints nothing, and stops
with a one-line error naming the file whose layout is not eval.json's. The model card and the
README's results table use the same rendering.
"""

from __future__ import annotations

import json
from pathlib import Path

from toxic_tagger import LABELS
from toxic_tagger.errors import ToxicTaggerError


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def metrics_table(report: dict) -> str:
    """Per-tag Markdown table of one split's report (metrics.split_report layout)."""
    lines = ["| tag | AUROC (95% CI) | precision | recall | F1 (95% CI) | F1 at 0.5 | threshold | support |",
             "|---|---|---|---|---|---|---|---|"]
    for label in LABELS:
        r = report[label]
        lines.append(
            f"| {label} | {_fmt(r['auroc'])} ({_fmt(r['auroc_ci95_low'])}-{_fmt(r['auroc_ci95_high'])}) "
            f"| {_fmt(r['precision'])} | {_fmt(r['recall'])} "
            f"| {_fmt(r['f1'])} ({_fmt(r['f1_ci95_low'])}-{_fmt(r['f1_ci95_high'])}) "
            f"| {_fmt(r['at_0_5']['f1'])} | {_fmt(r['threshold'])} | {r['support']} |"
        )
    lines.append(f"| **mean / micro / macro** | {_fmt(report['mean_auroc'])} | | | micro {_fmt(report['micro_f1'])}, "
                 f"macro {_fmt(report['macro_f1'])} | micro {_fmt(report['at_0_5']['micro_f1'])}, "
                 f"macro {_fmt(report['at_0_5']['macro_f1'])} | | {report['rows']} rows |")
    return "\n".join(lines)


def metrics_tables(paths: list[str], split: str) -> str:
    """One titled table per metrics file for `split` ("test" or "val"), all read before any is
    returned."""
    tables = []
    for path in paths:
        try:
            content = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ToxicTaggerError(f"{path}: cannot read: {exc}") from exc
        if not isinstance(content, dict) or split not in content:
            raise ToxicTaggerError(f"{path}: no {split!r} entry; expected metrics/eval.json's layout")
        try:
            tables.append(f"{path} ({split} split)\n\n{metrics_table(content[split])}\n")
        except (KeyError, TypeError, IndexError, ValueError) as exc:  # another JSON, e.g. metrics/split.json
            raise ToxicTaggerError(f"{path}: the {split!r} entry is not in metrics/eval.json's layout "
                                   f"(per-tag metrics; missing or malformed: {exc})") from exc
    return "\n".join(tables)
