"""balance_split: stratified natural val/test, grouped duplicates, balanced train."""

import logging

import pandas as pd
import pytest
from conftest import FIXTURE_CSV

from toxic_tagger import LABELS
from toxic_tagger.config import SplitParams
from toxic_tagger.data.comments_csv import read_split
from toxic_tagger.data.split import balance_train, make_splits, split_summary
from toxic_tagger.data.synthetic import generate_sample
from toxic_tagger.errors import ToxicTaggerError


def test_every_tag_in_every_split_and_fractions():
    table = generate_sample(6000, seed=1)
    splits = make_splits(table, SplitParams(0.15, 0.15, 100000), seed=1)
    for name in ("train", "val", "test"):
        frame = getattr(splits, name)
        assert (frame[list(LABELS)].sum() > 0).all(), name
    assert abs(len(splits.val) / len(table) - 0.15) < 0.01
    assert abs(len(splits.test) / len(table) - 0.15) < 0.01
    # val/test natural: their toxic rate is close to the whole table's
    assert abs(splits.test["toxic"].mean() - table["toxic"].mean()) < 0.02


def test_identical_texts_never_cross_splits():
    table = generate_sample(3000, seed=2)
    twins = table.sample(300, random_state=0).copy()
    twins["id"] = twins["id"] + "-twin"
    twins["comment_text"] = "  " + twins["comment_text"] + " "  # same text after trimming
    table = pd.concat([table, twins], ignore_index=True)
    splits = make_splits(table, SplitParams(0.2, 0.2, 100000), seed=2)
    texts = {name: set(getattr(splits, name)["comment_text"].str.strip()) for name in ("train", "val", "test")}
    assert not texts["train"] & texts["val"]
    assert not texts["train"] & texts["test"]
    assert not texts["val"] & texts["test"]


def test_balance_keeps_all_tagged_and_requested_clean():
    frame = read_split(FIXTURE_CSV)
    balanced, info = balance_train(frame, clean_rows=5, seed=0)
    tagged = frame[list(LABELS)].sum(axis=1) > 0
    assert len(balanced) == tagged.sum() + 5
    assert info.used == 5 and info.available == (~tagged).sum()


def test_null_clean_rows_keeps_every_untagged_row_quietly(caplog):
    frame = read_split(FIXTURE_CSV)
    with caplog.at_level(logging.WARNING):
        balanced, info = balance_train(frame, clean_rows=None, seed=0)
    assert len(balanced) == len(frame) and info.used == info.available and info.requested is None
    assert caplog.text == ""
    splits = make_splits(frame, SplitParams(0.2, 0.2, None), seed=0)
    assert split_summary(splits)["balance"]["all_clean_rows_used"] == 1


def test_too_few_clean_rows_uses_all_and_says_so(caplog):
    frame = read_split(FIXTURE_CSV)
    with caplog.at_level(logging.WARNING):
        balanced, info = balance_train(frame, clean_rows=10_000, seed=0)
    assert len(balanced) == len(frame) and info.used == info.available
    assert f"asked for 10000 clean rows, only {info.available} exist in train" in caplog.text
    splits = make_splits(frame, SplitParams(0.2, 0.2, 10_000), seed=0)
    assert split_summary(splits)["balance"]["all_clean_rows_used"] == 1


def test_tag_without_enough_positives_is_an_error():
    frame = read_split(FIXTURE_CSV)
    frame.loc[frame["threat"] == 1, "threat"] = 0
    frame.loc[0, "threat"] = 1
    with pytest.raises(ToxicTaggerError, match="tag 'threat' has too few positives"):
        make_splits(frame, SplitParams(0.2, 0.2, 10), seed=0)
