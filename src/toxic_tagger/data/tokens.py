"""Batch tokenization with the model's own fast tokenizer.

`encode` returns unpadded token ids per comment (truncated to `max_length`); padding is
done per batch by `batching.pad_batch`, never up front. `token_lengths` gives untruncated
lengths for statistics.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tqdm import tqdm

CHUNK = 2048  # texts per tokenizer call: keeps memory flat and the progress bar moving


def encode(tokenizer, texts: Sequence[str], max_length: int, desc: str = "tokenize") -> list[list[int]]:
    """Token ids per text, with special tokens, truncated to `max_length`."""
    ids: list[list[int]] = []
    for start in tqdm(range(0, len(texts), CHUNK), desc=desc, unit="chunk", disable=len(texts) <= CHUNK):
        batch = list(texts[start : start + CHUNK])
        ids.extend(tokenizer(batch, truncation=True, max_length=max_length, padding=False)["input_ids"])
    return ids


def token_lengths(tokenizer, texts: Sequence[str]) -> np.ndarray:
    """Untruncated token count per text (with special tokens): (n,) int64."""
    lengths: list[int] = []
    for start in range(0, len(texts), CHUNK):
        batch = list(texts[start : start + CHUNK])
        encoded = tokenizer(batch, truncation=False, padding=False, verbose=False)["input_ids"]
        lengths.extend(len(x) for x in encoded)
    return np.asarray(lengths, dtype=np.int64)
