"""The `token_stats` stage's logic: how long comments are in the model's own tokens.

Per split: length percentiles, how many comments each candidate `max_length` cuts (a count
and a share: under truncation head_tail the same comments lose their middle instead of their
end), and padding efficiency (real tokens / computed tokens) when every comment is
padded to that length versus length-bucketed batches under the training token budget.
Also a length histogram (for a DVC plot).
"""

from __future__ import annotations

import numpy as np

from toxic_tagger.data.batching import sorted_batches

PERCENTILES = (50, 75, 90, 95, 99)
HISTOGRAM_EDGES = (0, 16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 2048)


def length_summary(lengths: np.ndarray, max_lengths: tuple[int, ...], max_tokens: int, max_batch_size: int) -> dict:
    """Statistics of untruncated token `lengths` (n,) for metrics/token_stats.json."""
    summary: dict = {"comments": int(len(lengths)), "mean": round(float(lengths.mean()), 2),
                     "max": int(lengths.max())}
    summary.update({f"p{p}": round(float(np.percentile(lengths, p)), 1) for p in PERCENTILES})
    for max_length in max_lengths:
        kept = np.minimum(lengths, max_length)
        summary[f"at_{max_length}"] = {
            "truncated_comments": int((lengths > max_length).sum()),
            "truncated_share": round(float((lengths > max_length).mean()), 6),
            "pad_to_max_efficiency": round(float(kept.sum() / (len(kept) * max_length)), 6),
            "bucketed_efficiency": round(bucketed_efficiency(kept, max_tokens, max_batch_size), 6),
        }
    return summary


def bucketed_efficiency(lengths: np.ndarray, max_tokens: int, max_batch_size: int) -> float:
    """Real tokens / padded tokens when batches are length-sorted under the token budget."""
    batches = sorted_batches(lengths, max_tokens, max_batch_size)
    padded = sum(len(b) * int(lengths[b].max()) for b in batches)
    return float(lengths.sum() / padded)


def histogram_rows(lengths_by_split: dict[str, np.ndarray]) -> list[dict]:
    """One row per length bin: {"tokens": bin start, "<split>": share of comments, ...}."""
    edges = np.array([*HISTOGRAM_EDGES, np.iinfo(np.int64).max])
    rows = []
    for i, start in enumerate(HISTOGRAM_EDGES):
        row: dict = {"tokens": int(start)}
        for split, lengths in lengths_by_split.items():
            inside = ((lengths >= edges[i]) & (lengths < edges[i + 1])).mean()
            row[split] = round(float(inside), 6)
        rows.append(row)
    return rows
