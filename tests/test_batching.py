"""Token-budget batches: every row exactly once, budget respected, reproducible order."""

import numpy as np

from toxic_tagger.data.batching import BucketBatchSampler, FixedBatchSampler, budget_batches, pad_batch, sorted_batches


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
