"""Token-budget batches: every row exactly once (on exactly one of several processes), budget
respected, reproducible order."""

import numpy as np
import pytest

from toxic_tagger.data.batching import (
    BucketBatchSampler, FixedBatchSampler, budget_batches, pad_batch, shard_batches, sorted_batches,
)
from toxic_tagger.errors import ToxicTaggerError


def lengths(n: int = 500, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(3, 300, size=n)


def flat(batches):
    return sorted(i for b in batches for i in b)


def test_budget_and_cover():
    ls = lengths()
    batches = sorted_batches(ls, max_tokens=1024, max_batch_size=16)
    assert flat(batches) == list(range(len(ls)))
    for b in batches:
        assert len(b) <= 16
        assert len(b) == 1 or len(b) * ls[b].max() <= 1024


def test_oversized_comment_gets_its_own_batch():
    ls = np.array([10, 2000, 10])
    batches = budget_batches([0, 1, 2], ls, max_tokens=100, max_batch_size=8)
    assert [1] in batches and flat(batches) == [0, 1, 2]


def test_sampler_covers_each_epoch_and_is_reproducible():
    ls = lengths(800)
    a = BucketBatchSampler(ls, max_tokens=2048, max_batch_size=32, seed=3)
    b = BucketBatchSampler(ls, max_tokens=2048, max_batch_size=32, seed=3)
    epoch0 = list(a)
    assert epoch0 == list(b)
    a.set_epoch(1)
    epoch1 = list(a)
    assert epoch1 != epoch0
    for batches in (epoch0, epoch1):
        assert flat(batches) == list(range(len(ls)))
        assert all(len(x) == 1 or len(x) * ls[x].max() <= 2048 for x in batches)
    assert abs(len(epoch1) - len(a)) <= max(3, len(a) // 20)


def test_fixed_sampler_covers_each_epoch_in_equal_batches_from_the_seed():
    sampler = FixedBatchSampler(103, batch_size=10, seed=5)
    epoch0 = list(sampler)
    assert epoch0 == list(FixedBatchSampler(103, batch_size=10, seed=5)) and len(sampler) == len(epoch0) == 11
    assert [len(b) for b in epoch0] == [10] * 10 + [3] and flat(epoch0) == list(range(103))
    sampler.set_epoch(1)
    assert list(sampler) != epoch0 and flat(sampler) == list(range(103))


def test_bucketing_pads_far_less_than_fixed_batches():
    ls = lengths(2000)
    padded = lambda batches: sum(len(b) * ls[b].max() for b in batches)  # noqa: E731
    bucketed = list(BucketBatchSampler(ls, max_tokens=4096, max_batch_size=64, seed=0))
    fixed = list(FixedBatchSampler(len(ls), batch_size=len(ls) // len(bucketed), seed=0))  # as many steps
    assert ls.sum() / padded(bucketed) > 0.8  # over 80% of the tokens computed are real
    assert padded(bucketed) < 0.7 * padded(fixed)


def test_pad_batch():
    out = pad_batch([[1, 2, 3], [4]], pad_id=0)
    assert out["input_ids"].tolist() == [[1, 2, 3], [4, 0, 0]]
    assert out["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]


# Several processes (DDP): every process computes the same plan and takes a disjoint share.

def old_bucket_plan(ls, max_tokens, max_batch_size, seed, epoch):
    """BucketBatchSampler's plan before it learnt to share (a copy): one process must still get this."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(ls))
    mean_batch = max(1, min(max_batch_size, max_tokens // max(1, int(ls.mean()))))
    batches = []
    for start in range(0, len(order), mean_batch * 64):
        chunk = order[start : start + mean_batch * 64]
        chunk = chunk[np.argsort(ls[chunk], kind="stable")]
        batches.extend(budget_batches(chunk, ls, max_tokens, max_batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def old_fixed_plan(size, batch_size, seed, epoch):
    order = np.random.default_rng([seed, epoch]).permutation(size)
    return [[int(i) for i in order[start : start + batch_size]] for start in range(0, size, batch_size)]


def epochs_of(sampler, epochs=(0, 1, 2)):
    out = []
    for epoch in epochs:
        sampler.set_epoch(epoch)
        out.append(list(sampler))
    return out


@pytest.mark.parametrize("n, seed", [(800, 3), (37, 0), (2000, 9)])
def test_one_process_gets_exactly_the_old_batches(n, seed):
    ls = lengths(n, seed)
    sampler = BucketBatchSampler(ls, max_tokens=2048, max_batch_size=32, seed=seed)
    old = [old_bucket_plan(ls, 2048, 32, seed, epoch) for epoch in (0, 1, 2)]
    assert epochs_of(sampler) == old
    # its length is the current epoch's batch count (they differ by a batch or two)
    assert [sampler.batches_in(epoch) for epoch in (0, 1, 2)] == [len(plan) for plan in old]
    assert len(sampler) == len(old[2])  # epochs_of left it at epoch 2
    assert all(type(i) is int for b in epochs_of(sampler)[0] for i in b)  # as before: Python ints
    fixed = FixedBatchSampler(n, batch_size=10, seed=seed)
    assert epochs_of(fixed) == [old_fixed_plan(n, 10, seed, epoch) for epoch in (0, 1, 2)]


def shares(make, replicas):
    """Each rank's batches for epochs 0..2: shares[rank][epoch] -> list of batches."""
    return [epochs_of(make(num_replicas=replicas, rank=rank)) for rank in range(replicas)]


@pytest.mark.parametrize("n, replicas", [(5, 2), (5, 5), (37, 2), (37, 3), (103, 4), (103, 7), (800, 2), (800, 3)])
def test_ranks_share_each_epoch_disjointly_in_equal_counts_under_the_budget(n, replicas):
    ls = lengths(n, seed=n)
    make = lambda **r: BucketBatchSampler(ls, max_tokens=1024, max_batch_size=16, seed=1, **r)  # noqa: E731
    by_rank = shares(make, replicas)
    for epoch in range(3):
        counts = {len(by_rank[rank][epoch]) for rank in range(replicas)}
        assert len(counts) == 1  # DDP steps in lockstep: equal batch counts, or it hangs
        together = [b for rank in range(replicas) for b in by_rank[rank][epoch]]
        assert flat(together) == list(range(n))  # every comment once, on one rank
        assert all(len(b) >= 1 and (len(b) == 1 or len(b) * ls[b].max() <= 1024) for b in together)
        assert counts.pop() == -(-len(make().plan(epoch)) // replicas)
    assert {len(make(num_replicas=replicas, rank=r)) for r in range(replicas)} == {len(by_rank[0][0])}
    assert by_rank[0][0] != by_rank[0][1]  # reshuffled per epoch


@pytest.mark.parametrize("size, batch_size, replicas", [(103, 10, 2), (103, 10, 4), (100, 10, 5), (9, 4, 2)])
def test_fixed_batches_are_shared_the_same_way(size, batch_size, replicas):
    make = lambda **r: FixedBatchSampler(size, batch_size=batch_size, seed=5, **r)  # noqa: E731
    by_rank = shares(make, replicas)
    for epoch in range(3):
        assert len({len(by_rank[rank][epoch]) for rank in range(replicas)}) == 1
        assert flat(b for rank in range(replicas) for b in by_rank[rank][epoch]) == list(range(size))
        assert len(by_rank[0][epoch]) == len(make(num_replicas=replicas, rank=0))
    assert by_rank[0][0] != by_rank[0][1]


def test_a_remainder_is_shared_by_halving_the_largest_batches():
    batches = [[0, 1, 2, 3], [4, 5], [6, 7, 8, 9, 10, 11], [12]]
    assert shard_batches(batches, 1, 0) is batches
    # 4 batches on 3 ranks: the 6-comment batch is cut in two, then the 4-comment one.
    assert [shard_batches(batches, 3, r) for r in range(3)] == [
        [[0, 1], [6, 7, 8]], [[2, 3], [9, 10, 11]], [[4, 5], [12]]]
    assert [shard_batches(batches, 2, r) for r in range(2)] == [[[0, 1, 2, 3], [6, 7, 8, 9, 10, 11]], [[4, 5], [12]]]


def test_too_few_comments_to_share_is_an_error_that_says_so():
    with pytest.raises(ToxicTaggerError, match="3 comments cannot give 4 processes 1 batches each"):
        FixedBatchSampler(3, batch_size=1, seed=0, num_replicas=4, rank=0)
    with pytest.raises(ValueError, match="rank 2 is not in"):
        BucketBatchSampler(lengths(50), max_tokens=1024, max_batch_size=16, seed=0, num_replicas=2, rank=2)
