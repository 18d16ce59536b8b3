"""DVC stage `token_stats`: comment lengths in the model's own tokens, per split.

Reads: params `model`, `token_stats`, `train.max_tokens_per_batch`, `train.max_batch_size`;
--train, --val, --test.
Writes: --stats (metrics/token_stats.json) and --histogram (plots/token_lengths.csv).
"""

import sys
from pathlib import Path

# Run this checkout's library, also inside DVC's experiment copies (.dvc/tmp/exps/...).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import pandas as pd

from toxic_tagger import TEXT_COLUMN
from toxic_tagger.atomic_files import write_csv, write_json
from toxic_tagger.config import Params
from toxic_tagger.data.comments_csv import read_split
from toxic_tagger.data.token_stats import histogram_rows, length_summary
from toxic_tagger.data.tokens import token_lengths
from toxic_tagger.model.pretrained import load_tokenizer
from toxic_tagger.runtime import run_stage, stage_paths


def run(params: Params, root: Path) -> None:
    args = stage_paths(__doc__, "train", "val", "test", "stats", "histogram")
    tokenizer = load_tokenizer(params.model.name, root)
    lengths = {split: token_lengths(tokenizer, read_split(getattr(args, split))[TEXT_COLUMN].tolist())
               for split in ("train", "val", "test")}
    stats = {split: length_summary(values, params.token_stats.max_lengths, params.train.max_tokens_per_batch,
                                   params.train.max_batch_size) for split, values in lengths.items()}
    write_json(args.stats, {"model_max_length": params.model.max_length, **stats})
    write_csv(args.histogram, pd.DataFrame(histogram_rows(lengths)))

if __name__ == "__main__":
    run_stage(run)
