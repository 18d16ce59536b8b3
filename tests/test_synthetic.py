"""The synthetic sample looks like Jigsaw data in rates, nesting, lengths and noise."""

import numpy as np

from toxic_tagger import LABELS
from toxic_tagger.data.comments_csv import validate_comments
from toxic_tagger.data.synthetic import generate_sample


def test_rates_nesting_and_schema():
    frame = generate_sample(20000, seed=7)
    validate_comments(frame.astype(str), "sample")  # passes the same validation as real data
    rates = frame[list(LABELS)].mean()
    assert 0.08 < rates["toxic"] < 0.11
    assert 0.04 < rates["obscene"] < 0.065 and 0.04 < rates["insult"] < 0.06
    assert 0.005 < rates["severe_toxic"] < 0.015 and 0.005 < rates["identity_hate"] < 0.013
    assert 0.001 < rates["threat"] < 0.006
    severe = frame["severe_toxic"] == 1
    assert (frame.loc[severe, "toxic"] == 1).mean() > 0.8  # severe_toxic mostly inside toxic
    assert frame["id"].is_unique


def test_long_tail_of_lengths():
    words = generate_sample(5000, seed=3)["comment_text"].str.split().str.len()
    assert 20 <= words.median() <= 60
    assert words.quantile(0.99) > 5 * words.median()


def test_labels_are_noisy_not_a_lookup():
    frame = generate_sample(20000, seed=11)
    insult = frame["insult"].to_numpy() == 1
    cue = frame["comment_text"].str.contains("idiot|moron|loser|imbecile|fool|dimwit|clown|halfwit").to_numpy()
    assert 0.6 < (cue[insult]).mean() < 0.99  # some insults carry no explicit cue
    assert cue[~insult].sum() > 0  # and some clean comments quote one


def test_deterministic():
    assert generate_sample(500, seed=5).equals(generate_sample(500, seed=5))
    assert not np.array_equal(generate_sample(500, seed=5)["toxic"], generate_sample(500, seed=6)["toxic"])
