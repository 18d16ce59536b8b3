"""DVC stage `balance_split`: raw table -> balanced train, natural val and test.

Reads: params `seed`, `balance_split`; --raw.
Writes: --train, --val, --test (CSV) and --summary (metrics/split.json: rows and positives
per tag per split, and how many clean rows the balancing used).
"""

import sys
from pathlib import Path

# Run this checkout's library, also inside DVC's experiment copies (.dvc/tmp/exps/...).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import logging

from toxic_tagger.atomic_files import write_csv, write_json
from toxic_tagger.config import Params
from toxic_tagger.data.comments_csv import read_split
from toxic_tagger.data.split import make_splits, split_summary
from toxic_tagger.runtime import run_stage, stage_paths

log = logging.getLogger("balance_split")

def run(params: Params, root: Path) -> None:
    args = stage_paths(__doc__, "raw", "train", "val", "test", "summary")
    splits = make_splits(read_split(args.raw), params.balance_split, params.seed)
    summary = split_summary(splits)
    write_csv(args.train, splits.train)
    write_csv(args.val, splits.val)
    write_csv(args.test, splits.test)
    write_json(args.summary, summary)
    log.info("rows: train %d (balanced), val %d, test %d", len(splits.train), len(splits.val), len(splits.test))

if __name__ == "__main__":
    run_stage(run)
