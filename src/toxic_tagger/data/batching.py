"""Length-bucketed batches under a token budget, and per-batch dynamic padding.

A batch costs roughly (batch size x longest comment in it) tokens of compute, so comments of
similar length are batched together and each batch holds as many comments as fit under
`max_tokens` padded tokens (capped at `max_batch_size`). Training shuffles within and across
buckets from the seed and epoch, so runs are reproducible; prediction sorts by length.

Several processes (DDP): every process computes the same plan and takes its share
(`shard_batches`), the same number of batches on each, every comment on exactly one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
import torch

from toxic_tagger.errors import ToxicTaggerError

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


def check_rank(num_replicas: int, rank: int) -> None:
    if not 0 <= rank < num_replicas:
        raise ValueError(f"rank {rank} is not in [0, num_replicas={num_replicas})")


def shard_batches(batches: list[list[int]], num_replicas: int = 1, rank: int = 0) -> list[list[int]]:
    """Process `rank`'s share of `batches` (the same list on every process): every
    `num_replicas`-th batch from position `rank`. `batches` unchanged with one process.

    When the count is not a multiple of `num_replicas`, the batch with the most comments (the
    first such) is cut in two, at most num_replicas - 1 times, until it is: DDP needs the same
    number of steps on every process (or it hangs), and each comment still lands in exactly
    one batch. Half a batch stays under the token budget; merging leftovers would break it,
    dropping them would lose comments, and repeating comments to fill up (as Lightning's
    DistributedSampler does) would weight them twice."""
    check_rank(num_replicas, rank)
    if num_replicas == 1:
        return batches
    batches = list(batches)
    while len(batches) % num_replicas:
        largest = max(range(len(batches)), key=lambda i: len(batches[i]))
        batch = batches[largest]
        if len(batch) < 2:
            raise ToxicTaggerError(f"{sum(map(len, batches))} comments cannot give {num_replicas} processes "
                                   f"{-(-len(batches) // num_replicas)} batches each: use fewer devices")
        batches[largest : largest + 1] = [batch[: len(batch) // 2], batch[len(batch) // 2 :]]
    return batches[rank::num_replicas]


def per_replica(batches: int, num_replicas: int) -> int:
    """How many of `batches` each of `num_replicas` processes gets from `shard_batches`."""
    return -(-batches // num_replicas)


class BucketBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Shuffled, length-bucketed training batches; epoch `e` draws from `default_rng([seed, e])`.

    Each epoch: permute all indices, cut them into buckets, sort each bucket by length,
    cut into budget batches, then shuffle the batch order. Every index appears exactly once,
    in the batches of exactly one of the `num_replicas` processes (`shard_batches`).
    """

    def __init__(self, lengths: np.ndarray, max_tokens: int, max_batch_size: int, seed: int,
                 num_replicas: int = 1, rank: int = 0) -> None:
        self.lengths = np.asarray(lengths)
        self.max_tokens = max_tokens
        self.max_batch_size = max_batch_size
        self.seed = seed
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        first = self.plan(0)
        self.total_batches = len(first)  # epoch 0, all processes together
        shard_batches(first, num_replicas, rank)  # fails here, not mid-fit, when it cannot share

    def set_epoch(self, epoch: int) -> None:
        """Called by Lightning at the start of each epoch."""
        self.epoch = epoch

    def plan(self, epoch: int) -> list[list[int]]:
        """The epoch's batches for all processes together (the same on each)."""
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
        yield from shard_batches(self.plan(self.epoch), self.num_replicas, self.rank)

    def __len__(self) -> int:
        return self.batches_in(self.epoch)

    def batches_in(self, epoch: int) -> int:
        """This process's batches in `epoch`: they vary by a few between epochs (epoch 0's count
        drives the LR schedule); all processes get the same count in every epoch."""
        plan = self.total_batches if epoch == 0 else len(self.plan(epoch))
        return per_replica(plan, self.num_replicas)


class FixedBatchSampler(torch.utils.data.Sampler[list[int]]):
    """The plain recipe, for comparison (`train.batching: fixed`): each epoch a seeded shuffle
    cut into batches of `batch_size` comments, whatever their lengths (each batch is still
    padded only to its longest comment). Every index appears exactly once per epoch, on
    exactly one of the `num_replicas` processes (`shard_batches`)."""

    def __init__(self, size: int, batch_size: int, seed: int, num_replicas: int = 1, rank: int = 0) -> None:
        self.size = size
        self.batch_size = max(1, batch_size)
        self.seed = seed
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        shard_batches(self.plan(0), num_replicas, rank)  # fails here, not mid-fit, when it cannot share

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def plan(self, epoch: int) -> list[list[int]]:
        """The epoch's batches for all processes together (the same on each)."""
        order = np.random.default_rng([self.seed, epoch]).permutation(self.size)
        return [[int(i) for i in order[start : start + self.batch_size]] for start in range(0, self.size, self.batch_size)]

    def __iter__(self) -> Iterator[list[int]]:
        yield from shard_batches(self.plan(self.epoch), self.num_replicas, self.rank)

    def __len__(self) -> int:
        return self.batches_in(self.epoch)

    def batches_in(self, epoch: int) -> int:
        """This process's batches in any epoch (the same count in each)."""
        return per_replica(-(-self.size // self.batch_size), self.num_replicas)


def pad_batch(ids: Sequence[Sequence[int]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad token id lists to the batch's longest: input_ids and attention_mask (batch, len)."""
    longest = max(len(x) for x in ids)
    input_ids = torch.full((len(ids), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), longest), dtype=torch.long)
    for row, seq in enumerate(ids):
        input_ids[row, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return {"input_ids": input_ids, "attention_mask": mask}


def scored_in_batches(ids: Sequence[Sequence[int]], pad_id: int, max_tokens: int, max_batch_size: int,
                      n_labels: int, score: Callable[[dict[str, torch.Tensor]], np.ndarray],
                      wrap: Callable[[list[list[int]]], Iterable[list[int]]] = iter) -> np.ndarray:
    """Probabilities (len(ids), n_labels) float32 in input order, from `score` (a padded batch
    -> its (batch, n_labels) probabilities) over length-sorted batches under `max_tokens`;
    `wrap` wraps the batch list (e.g. a progress bar). The one loop every runtime shares."""
    lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
    out = np.zeros((len(ids), n_labels), dtype=np.float32)
    for batch in wrap(sorted_batches(lengths, max_tokens, max_batch_size)):
        out[batch] = score(pad_batch([ids[i] for i in batch], pad_id))
    return out
