"""A source for a nested experiment: the train and val splits of a finished run as one CSV,
its test split left out, so a variant can be judged on a test split carved from these rows
while the project's own test split stays unread (docs/experiments.md, refit on train + val).

Input: --train and --val CSVs written by `balance_split` (e.g. data/train.csv, data/val.csv of
a `make repro-real` workspace). Output: --out, a comment CSV that `fetch.source` accepts.
Prints the rows written and the file's sha256 (for `fetch.sha256`). The output holds real
comments when the inputs do: write it outside the repository.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import pandas as pd

from toxic_tagger.atomic_files import write_csv
from toxic_tagger.data.comments_csv import read_split


def nested_source(train: Path, val: Path, out: Path) -> int:
    """Write train + val (in that order) to `out`; the number of rows."""
    rows = pd.concat([read_split(train), read_split(val)], ignore_index=True)
    write_csv(out, rows)
    return len(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--val", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    rows = nested_source(args.train, args.val, args.out)
    print(f"wrote {rows} rows to {args.out} (sha256 {hashlib.sha256(args.out.read_bytes()).hexdigest()})")


if __name__ == "__main__":
    main()
