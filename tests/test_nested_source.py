"""bench/nested_source.py: train + val of a split as one fetchable source, test left out."""

from __future__ import annotations

import sys

from conftest import FIXTURE_CSV, ROOT

from toxic_tagger.atomic_files import write_csv
from toxic_tagger.config import SplitParams
from toxic_tagger.data.comments_csv import parse_comments, read_split
from toxic_tagger.data.split import make_splits

sys.path.insert(0, str(ROOT / "bench"))

import nested_source  # noqa: E402


def test_writes_train_and_val_without_a_test_row(tmp_path, capsys):
    splits = make_splits(read_split(FIXTURE_CSV), SplitParams(0.2, 0.2, None), 0)
    for name in ("train", "val"):
        write_csv(tmp_path / f"{name}.csv", getattr(splits, name))
    out = tmp_path / "inner.csv"
    nested_source.main(["--train", str(tmp_path / "train.csv"), "--val", str(tmp_path / "val.csv"), "--out", str(out)])
    rows = parse_comments(out.read_bytes(), str(out))  # what fetch accepts
    assert len(rows) == len(splits.train) + len(splits.val)
    assert set(rows["id"]) == set(splits.train["id"]) | set(splits.val["id"])
    assert not set(rows["id"]) & set(splits.test["id"])
    assert f"wrote {len(rows)} rows" in capsys.readouterr().out
