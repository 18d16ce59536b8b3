"""Batch tokenization with the model's own fast tokenizer.

`encode` returns unpadded token ids per comment, cut to `max_length` by a `Truncation`:
"head" keeps the first tokens (the tokenizer's own truncation), "head_tail" keeps the first
`head_tokens` and the last `max_length - 2 - head_tokens` (Sun et al. 2019, "How to Fine-Tune
BERT for Text Classification?": 128 + 382 of 512 read long reviews best), special tokens kept.
Padding is done per batch by `batching.pad_batch`, never up front. `token_lengths` gives
untruncated lengths for statistics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from toxic_tagger.errors import ToxicTaggerError

CHUNK = 2048  # texts per tokenizer call: keeps memory flat and the progress bar moving
STRATEGIES = ("head", "head_tail")


@dataclass(frozen=True)
class Truncation:
    """Where a comment over `max_length` tokens is cut (params.yaml's model.truncation and
    model.head_tokens; the export's toxic_tagger.json carries both)."""

    strategy: str = "head"
    head_tokens: int = 0  # head_tail only: tokens kept from the start, after [CLS]

    def problem(self, max_length: int) -> str | None:
        """What makes this truncation impossible at `max_length`, or None."""
        if self.strategy not in STRATEGIES:
            return f"truncation must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}"
        if isinstance(self.head_tokens, bool) or not isinstance(self.head_tokens, int) or self.head_tokens < 0:
            return f"head_tokens must be an integer >= 0, got {self.head_tokens!r}"
        if self.strategy == "head_tail" and self.head_tokens >= max_length - 2:
            return f"head_tokens {self.head_tokens} must be below max_length - 2 = {max_length - 2} under head_tail"
        return None


HEAD = Truncation()


def encode(tokenizer, texts: Sequence[str], max_length: int, desc: str = "tokenize",
           truncation: Truncation = HEAD) -> list[list[int]]:
    """Token ids per text, with special tokens, cut to `max_length` by `truncation`."""
    problem = truncation.problem(max_length)
    if problem:
        raise ToxicTaggerError(problem)
    if truncation.strategy == "head_tail" and tokenizer.num_special_tokens_to_add(pair=False) != 2:
        raise ToxicTaggerError("truncation head_tail needs a tokenizer that adds one special token at each end "
                               "([CLS] ... [SEP], <s> ... </s>)")
    ids: list[list[int]] = []
    for start in tqdm(range(0, len(texts), CHUNK), desc=desc, unit="chunk", disable=len(texts) <= CHUNK):
        batch = list(texts[start : start + CHUNK])
        if truncation.strategy == "head":
            ids.extend(tokenizer(batch, truncation=True, max_length=max_length, padding=False)["input_ids"])
        else:
            full = tokenizer(batch, truncation=False, padding=False, verbose=False)["input_ids"]
            ids.extend(head_tail(x, max_length, truncation.head_tokens) for x in full)
    return ids


def head_tail(ids: list[int], max_length: int, head_tokens: int) -> list[int]:
    """`ids` ([CLS] t_1 ... t_n [SEP]) unchanged when it fits; else [CLS], the first `head_tokens`
    tokens, the last max_length - 2 - head_tokens tokens and [SEP]: exactly `max_length` ids."""
    if len(ids) <= max_length:
        return ids
    tail = max_length - 2 - head_tokens
    return ids[: 1 + head_tokens] + ids[len(ids) - 1 - tail :]


def token_lengths(tokenizer, texts: Sequence[str]) -> np.ndarray:
    """Untruncated token count per text (with special tokens): (n,) int64."""
    lengths: list[int] = []
    for start in range(0, len(texts), CHUNK):
        batch = list(texts[start : start + CHUNK])
        encoded = tokenizer(batch, truncation=False, padding=False, verbose=False)["input_ids"]
        lengths.extend(len(x) for x in encoded)
    return np.asarray(lengths, dtype=np.int64)
