"""Tokenization cut to max_length: head (the tokenizer's own truncation) and head_tail (the first
head_tokens and the last tokens, special tokens kept)."""

import numpy as np
import pytest

from toxic_tagger.data.tokens import HEAD, Truncation, encode, head_tail, token_lengths
from toxic_tagger.errors import ToxicTaggerError

LONG = "hello " + " ".join(f"w{i}" for i in range(300)) + " goodbye"  # far over 32 tokens
SHORT = "thanks for the fix"


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_head_is_the_tokenizers_own_truncation(tokenizer):
    expected = tokenizer([LONG, SHORT], truncation=True, max_length=32)["input_ids"]
    assert encode(tokenizer, [LONG, SHORT], 32) == expected
    assert encode(tokenizer, [LONG, SHORT], 32, truncation=HEAD) == expected


def test_head_tail_keeps_the_first_and_last_tokens(tokenizer):
    full = tokenizer([LONG], verbose=False)["input_ids"][0]  # [CLS] t_1 ... t_n [SEP]
    (cut,) = encode(tokenizer, [LONG], 32, truncation=Truncation("head_tail", 8))
    assert len(cut) == 32 and len(full) > 32
    assert cut[:9] == full[:9]  # [CLS] + 8 head tokens
    assert cut[9:] == full[-23:]  # the last 22 tokens + [SEP]
    assert cut[0] == tokenizer.cls_token_id and cut[-1] == tokenizer.sep_token_id
    # the last word is what head truncation never reads
    goodbye = tokenizer.convert_tokens_to_ids("goodbye")
    assert full[-2] == goodbye and goodbye in cut and goodbye not in encode(tokenizer, [LONG], 32)[0]


def test_head_tail_leaves_comments_that_fit_alone(tokenizer):
    truncation = Truncation("head_tail", 8)
    assert encode(tokenizer, [SHORT], 32, truncation=truncation) == encode(tokenizer, [SHORT], 32)
    exactly = list(range(32))
    assert head_tail(exactly, 32, 8) is exactly


def test_head_tokens_zero_keeps_only_the_tail():
    ids = [101, *range(1, 41), 102]  # 40 tokens between the special ones
    assert head_tail(ids, 10, 0) == [101, 33, 34, 35, 36, 37, 38, 39, 40, 102]
    assert head_tail(ids, 10, 3) == [101, 1, 2, 3, 36, 37, 38, 39, 40, 102]


@pytest.mark.parametrize(("truncation", "message"), [
    (Truncation("middle", 0), "truncation must be one of head, head_tail, got 'middle'"),
    (Truncation("head_tail", 30), "head_tokens 30 must be below max_length - 2 = 30 under head_tail"),
    (Truncation("head_tail", -1), "head_tokens must be an integer >= 0, got -1"),
])
def test_impossible_truncations_are_refused(tokenizer, truncation, message):
    assert truncation.problem(32) == message
    with pytest.raises(ToxicTaggerError, match=message.replace("(", r"\(").replace(")", r"\)")):
        encode(tokenizer, [LONG], 32, truncation=truncation)


def test_head_tail_needs_one_special_token_at_each_end():
    class OneSpecial:
        def num_special_tokens_to_add(self, pair=False):
            return 1

    with pytest.raises(ToxicTaggerError, match="one special token at each end"):
        encode(OneSpecial(), [LONG], 32, truncation=Truncation("head_tail", 8))


def test_token_lengths_are_untruncated(tokenizer):
    lengths = token_lengths(tokenizer, [LONG, SHORT])
    assert lengths.dtype == np.int64 and lengths[0] > 32 and lengths[1] == len(tokenizer(SHORT)["input_ids"])


def test_token_stats_count_the_comments_each_max_length_cuts():
    from toxic_tagger.data.token_stats import length_summary

    summary = length_summary(np.array([10, 64, 65, 200, 513]), (64, 512), max_tokens=1024, max_batch_size=8)
    assert summary["at_64"]["truncated_comments"] == 3 and summary["at_64"]["truncated_share"] == 0.6
    assert summary["at_512"]["truncated_comments"] == 1 and summary["at_512"]["truncated_share"] == 0.2
