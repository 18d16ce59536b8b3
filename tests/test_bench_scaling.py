"""bench/bench_scaling.py on tiny sizes: rows in the real schema and length distribution, every
stage's part run (in this process, on the tiny random BERT), the table, exponents and JSON.
No timing assertions."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import FIXTURE_CSV, ROOT

sys.path.insert(0, str(ROOT / "bench"))

import bench_scaling
from bench_scaling_data import resample_rows, shuffle_words

from toxic_tagger import LABELS, TEXT_COLUMN
from toxic_tagger.data.comments_csv import read_split


def test_shuffled_words_keep_every_word_and_whitespace_run():
    text = "You are  wrong,\n\nsee [[WP:RS]] please"
    shuffled = shuffle_words(text, np.random.default_rng(0))
    assert sorted(shuffled.split()) == sorted(text.split())
    assert [len(s) for s in shuffled.split(" ") if not s.strip()] == [len(s) for s in text.split(" ") if not s.strip()]
    assert "\n\n" in shuffled and len(shuffled) == len(text)


def test_resampled_rows_keep_schema_labels_and_lengths():
    source = read_split(FIXTURE_CSV)
    rows = resample_rows(source, 500, seed=3)
    assert list(rows.columns) == list(source.columns) and rows["id"].is_unique and len(rows) == 500
    # each row's labels and character count are those of one source comment
    by_length = {len(t): [] for t in source[TEXT_COLUMN]}
    for text, labels in zip(source[TEXT_COLUMN], source[list(LABELS)].to_numpy().tolist()):
        by_length[len(text)].append(labels)
    for text, labels in zip(rows[TEXT_COLUMN], rows[list(LABELS)].to_numpy().tolist()):
        assert labels in by_length[len(text)]
    pd.testing.assert_frame_equal(rows, resample_rows(source, 500, seed=3))


def test_growth_exponent():
    assert bench_scaling.exponent(1.0, 4.0, 10, 40) == 1.0
    assert bench_scaling.exponent(1.0, 16.0, 10, 40) == 2.0
    assert bench_scaling.exponent(0.01, 4.0, 10, 40) is None  # too small to time


def test_smoke_run_on_tiny_sizes(tmp_path, tiny_model_dir, capsys):
    output = tmp_path / "scaling.json"
    report = bench_scaling.main(["--rows", "150", "300", "--source", str(FIXTURE_CSV), "--model", str(tiny_model_dir),
                                 "--in-process", "--quick", "--threads", "1", "--output", str(output)])
    assert json.loads(output.read_text()) == json.loads(json.dumps(report))
    assert [s["rows"] for s in report["sizes"]] == [150, 300]
    for size in report["sizes"]:
        assert set(size["parts"]) == set(bench_scaling.PARTS)
        assert all(part["seconds"] >= 0 and part["peak_rss_mb"] > 0 for part in size["parts"].values())
        parts = size["parts"]
        assert parts["train_fit"]["train_comments"] == min(64, parts["train_corpus"]["train_rows"])  # the cap
        assert parts["evaluate"]["scored_comments"] == min(64, parts["evaluate"]["test_rows"])
        assert parts["fetch"]["rows"] == size["rows"]
        assert size["projected"]["train_seconds"] > 0
    assert set(report["growth_exponents"]) == set(bench_scaling.PARTS)
    out = capsys.readouterr().out
    assert "growth exponents" in out and "baseline" in out and "capped" in out
    assert report["machine"]["cores_available"] >= 1


@pytest.mark.parametrize("argv", [["--rows", "0"], ["--train-comments", "-1"]])
def test_refuses_bad_sizes(argv):
    with pytest.raises(SystemExit):
        bench_scaling.main(argv)
