"""Length-bucketed batches under a token budget, and per-batch dynamic padding.

A batch costs roughly (batch size x longest comment in it) tokens of compute, so comments of
similar length are batched together and each batch holds as many comments as fit under
`max_tokens` padded tokens (capped at `max_batch_size`). Training shuffles within and across
buckets from the seed and epoch, so runs are reproducible; prediction sorts by length.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

BUCKET_BATCHES = 64  # a training bucket holds about this many batches' worth of comments


def budget_batches(order: Sequence[int], lengths: np.ndarray, max_tokens: int, max_batch_size: int) -> list[list[int]]:
    """Cut `order` (indices, usually length-sorted) into consecutive batches where
    len(batch) * max(length in batch) <= max_tokens and len(batch) <= max_batch_size.
    A single comment longer than the budget gets a batch of its own."""
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for index in order:
        length = int(lengths[index])
        grown = max(longest, length)
        if current and (grown * (len(current) + 1) > max_tokens or len(current) >= max_batch_size):
            batches.append(current)
            current, grown = [], length
        current.append(int(index))
        longest = grown
    if current:
        batches.append(current)
    return batches


def sorted_batches(lengths: np.ndarray, max_tokens: int, max_batch_size: int) -> list[list[int]]:
    """Deterministic batches for prediction: longest first (so memory peaks early)."""
    order = np.argsort(-lengths, kind="stable")
    return budget_batches(order, lengths, max_tokens, max_batch_size)


class BucketBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Shuffled, length-bucketed training batches; epoch `e` draws from `default_rng([seed, e])`.

    Each epoch: permute all indices, cut them into buckets, sort each bucket by length,
    cut into budget batches, then shuffle the batch order. Every index appears exactly once.
    """

    def __init__(self, lengths: np.ndarray, max_tokens: int, max_batch_size: int, seed: int) -> None:
        self.lengths = np.asarray(lengths)
        self.max_tokens = max_tokens
        self.max_batch_size = max_batch_size
        self.seed = seed
        self.epoch = 0
        self._size = len(self.plan(0))

    def set_epoch(self, epoch: int) -> None:
        """Called by Lightning at the start of each epoch."""
        self.epoch = epoch

    def plan(self, epoch: int) -> list[list[int]]:
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(len(self.lengths))
        mean_batch = max(1, min(self.max_batch_size, self.max_tokens // max(1, int(self.lengths.mean()))))
        bucket = mean_batch * BUCKET_BATCHES
        batches: list[list[int]] = []
        for start in range(0, len(order), bucket):
            chunk = order[start : start + bucket]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches.extend(budget_batches(chunk, self.lengths, self.max_tokens, self.max_batch_size))
        return [batches[i] for i in rng.permutation(len(batches))]

    def __iter__(self) -> Iterator[list[int]]:
        yield from self.plan(self.epoch)

    def __len__(self) -> int:
        # Batches per epoch vary by a few between epochs; epoch 0's count drives the LR schedule.
        return self._size


class FixedBatchSampler(torch.utils.data.Sampler[list[int]]):
    """The plain recipe, for comparison (`train.batching: fixed`): each epoch a seeded shuffle
    cut into batches of `batch_size` comments, whatever their lengths (each batch is still
    padded only to its longest comment). Every index appears exactly once per epoch."""

    def __init__(self, size: int, batch_size: int, seed: int) -> None:
        self.size = size
        self.batch_size = max(1, batch_size)
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[list[int]]:
        order = np.random.default_rng([self.seed, self.epoch]).permutation(self.size)
        for start in range(0, self.size, self.batch_size):
            yield [int(i) for i in order[start : start + self.batch_size]]

    def __len__(self) -> int:
        return -(-self.size // self.batch_size)


def pad_batch(ids: Sequence[Sequence[int]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad token id lists to the batch's longest: input_ids and attention_mask (batch, len)."""
    longest = max(len(x) for x in ids)
    input_ids = torch.full((len(ids), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), longest), dtype=torch.long)
    for row, seq in enumerate(ids):
        input_ids[row, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return {"input_ids": input_ids, "attention_mask": mask}
