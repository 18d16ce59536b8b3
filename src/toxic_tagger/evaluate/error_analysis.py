"""Error analysis: per tag, the val comments the exported model gets most wrong.

Inputs, for the val split: comment `ids` and `texts` (n,), `labels` (n, 6) 0/1, final `scores`
(n, 6), the tuned `thresholds` (6,), each comment's untruncated token count `tokens` (n,) and
whether it mentions an identity term (`identity` (n,) bool, bias.py's lexicon).
Outputs: `top_errors`, the table the evaluate stage writes to reports/errors_val.csv: per tag
the TOP_N false positives with the highest scores and the TOP_N false negatives with the
lowest (at the tuned threshold), their score, length and text (whitespace collapsed, cut to
TEXT_CHARS characters); `error_summary`, counts and two patterns (share of long comments and of
identity mentions among the listed errors, against all val comments) for eval.json and the
model card's limits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from toxic_tagger import LABELS

TOP_N = 20
TEXT_CHARS = 300
KINDS = ("false_positive", "false_negative")
COLUMNS = ["tag", "kind", "rank", "score", "threshold", "id", "tokens", "truncated", "identity_term", "text"]


def error_rows(labels: np.ndarray, scores: np.ndarray, thresholds: np.ndarray, top_n: int = TOP_N) -> dict:
    """{(tag, kind): row indices, worst first}: false positives by descending score, false
    negatives by ascending score (ties: earlier rows first)."""
    found = {}
    for j, label in enumerate(LABELS):
        predicted = scores[:, j] >= thresholds[j]
        for kind, wrong, order in (("false_positive", predicted & (labels[:, j] == 0), -scores[:, j]),
                                   ("false_negative", ~predicted & (labels[:, j] == 1), scores[:, j])):
            rows = np.flatnonzero(wrong)
            found[(label, kind)] = rows[np.argsort(order[rows], kind="stable")][:top_n]
    return found


def top_errors(ids: Sequence[str], texts: Sequence[str], labels: np.ndarray, scores: np.ndarray,
               thresholds: np.ndarray, tokens: np.ndarray, identity: np.ndarray, max_length: int,
               top_n: int = TOP_N) -> pd.DataFrame:
    """The error table (COLUMNS), tags in LABELS order, false positives before false negatives."""
    records = []
    for (label, kind), rows in error_rows(labels, scores, thresholds, top_n).items():
        j = LABELS.index(label)
        records += [{"tag": label, "kind": kind, "rank": rank, "score": round(float(scores[i, j]), 6),
                     "threshold": round(float(thresholds[j]), 6), "id": ids[i], "tokens": int(tokens[i]),
                     "truncated": int(tokens[i] > max_length), "identity_term": int(identity[i]),
                     "text": clip(texts[i])} for rank, i in enumerate(rows, 1)]
    return pd.DataFrame(records, columns=COLUMNS)


def clip(text: str, limit: int = TEXT_CHARS) -> str:
    """`text` on one line (runs of whitespace become one space), cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def error_summary(labels: np.ndarray, scores: np.ndarray, thresholds: np.ndarray, tokens: np.ndarray,
                  identity: np.ndarray, max_length: int, top_n: int = TOP_N) -> dict:
    """eval.json's `error_analysis`: per tag the false positives and negatives at the threshold
    (all, and listed), and the share of listed ones over max_length tokens and mentioning an
    identity term (null when none is listed); the same shares over all val comments."""
    long = tokens > max_length
    summary: dict = {"split": "val", "top_n": top_n, "max_length": max_length, "rows": int(len(labels)),
                     "long_share_all": _share(long), "identity_share_all": _share(identity)}
    listed = error_rows(labels, scores, thresholds, top_n)
    for j, label in enumerate(LABELS):
        predicted = scores[:, j] >= thresholds[j]
        entry = {"false_positives": int((predicted & (labels[:, j] == 0)).sum()),
                 "false_negatives": int((~predicted & (labels[:, j] == 1)).sum())}
        for kind in KINDS:
            rows = listed[(label, kind)]
            entry[f"listed_{kind}s"] = int(len(rows))
            entry[f"long_share_{kind}s"] = _share(long[rows])
            entry[f"identity_share_{kind}s"] = _share(identity[rows])
        summary[label] = entry
    return summary


def _share(flags: np.ndarray) -> float | None:
    return round(float(np.mean(flags)), 6) if len(flags) else None
