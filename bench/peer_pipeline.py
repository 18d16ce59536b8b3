"""The peer's whole process: score a CSV of comments with `transformers.pipeline`, as a user would.

    python bench/peer_pipeline.py --model models/toxic-tagger --input comments.csv --output scored.csv

pipeline("text-classification", model=<the exported folder>, top_k=None, function_to_apply="sigmoid",
batch_size=32, truncation=True, max_length=<--max-length>) over the `comment_text` column (the
exported folder is a plain transformers model: config.json, model.safetensors, tokenizer).
Writes `id` and one probability column per label. bench_peers.py times this script as a child
process, next to `toxic-tagger predict` on the same file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--input", required=True, help="CSV with id and comment_text columns")
    parser.add_argument("--output", required=True)
    parser.add_argument("--max-length", type=int, required=True, help="truncation length (the export's)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args(argv)

    import pandas as pd
    import torch
    from peers_predict import pipeline_scores, pipeline_settings
    from transformers import pipeline

    from toxic_tagger import LABELS

    if args.threads:
        torch.set_num_threads(args.threads)
    frame = pd.read_csv(args.input, dtype=str, keep_default_na=False)
    classify = pipeline("text-classification", model=args.model, **pipeline_settings(args.max_length))
    scores = pipeline_scores(classify(frame["comment_text"].tolist()))
    out = pd.DataFrame(scores, columns=list(LABELS))
    out.insert(0, "id", frame["id"])
    out.to_csv(args.output, index=False)


if __name__ == "__main__":
    main()
