"""Rows for the scaling benchmark: the Jigsaw schema, the real comments' length distribution.

    frame, origin = real_like_rows(rows=40_000, seed=42)      # (rows, 8) DataFrame, a note

`generate_sample` (the `sample` fetch source) writes shorter comments than the real data
(model tokens p50 ~41 and p99 ~350 against the real sample's ~52 and ~860), and the cost of
tokenizing, TF-IDF and the transformer grows with comment length. So each row here is a real
comment of the 15k sample (`../shared/data/jigsaw-train-15k.csv.gz`) drawn with replacement,
with its words shuffled (whitespace runs, line breaks included, stay where they were) and its
own six labels: the same characters, nearly the same token count, the real tag rates and
co-occurrence, and texts that differ between draws (identical texts would share a split).
Caveat: the words all come from 15k comments, so the unigram vocabulary stops growing past
15k rows (the full train.csv's keeps growing), while shuffling makes more distinct word
bigrams than real text has. Without the real file the synthetic sample is used, with a note.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from toxic_tagger import ID_COLUMN, LABELS, TEXT_COLUMN
from toxic_tagger.data.comments_csv import read_split
from toxic_tagger.data.synthetic import generate_sample

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "jigsaw-train-15k.csv.gz"
WHITESPACE = re.compile(r"(\s+)")


def shuffle_words(text: str, rng: np.random.Generator) -> str:
    """`text` with its words in a random order and every whitespace run in its place."""
    parts = WHITESPACE.split(text)  # words at even positions, separators at odd ones
    words = parts[0::2]
    order = rng.permutation(len(words))
    parts[0::2] = [words[i] for i in order]
    return "".join(parts)


def resample_rows(source: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """`rows` comments drawn from `source` with replacement: shuffled words, own labels, new ids."""
    rng = np.random.default_rng(seed)
    picked = rng.integers(len(source), size=rows)
    texts = source[TEXT_COLUMN].to_numpy()
    frame = pd.DataFrame({
        ID_COLUMN: [f"{i:08x}{v:08x}" for i, v in enumerate(rng.integers(0, 2**32, size=rows))],
        TEXT_COLUMN: [shuffle_words(texts[i], rng) for i in picked],
    })
    for label in LABELS:
        frame[label] = source[label].to_numpy()[picked]
    return frame


def real_like_rows(rows: int, seed: int, source: Path | None = REAL) -> tuple[pd.DataFrame, str]:
    """`rows` rows resampled from `source` (a comment CSV), or the synthetic sample when it is
    absent; with a one-line note of where the texts came from."""
    if source is not None and source.is_file():
        return resample_rows(read_split(source), rows, seed), f"resampled from {source.name} (words shuffled)"
    return generate_sample(rows, seed), "synthetic sample (real file absent: shorter comments than real)"


def length_percentiles(lengths: np.ndarray) -> dict[str, float]:
    """p50, p90, p99 and the mean of token `lengths`, to set beside the real sample's."""
    out = {f"p{p}": float(np.percentile(lengths, p)) for p in (50, 90, 99)}
    return {**out, "mean": round(float(lengths.mean()), 1)}
