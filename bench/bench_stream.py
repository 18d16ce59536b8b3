"""Peak memory of `toxic-tagger predict --input big.csv --output scored.csv` as the file grows.

    python bench/bench_stream.py                       # 10,000 and 1,000,000 rows, tiny random model
    python bench/bench_stream.py --rows 10000 200000 --model models/toxic-tagger

Builds CSV files of the requested sizes by repeating the comments of the real sample
(`../shared/data/jigsaw-train-15k.csv.gz`, or the synthetic sample when it is absent) with fresh
ids, then runs the CLI on each as a separate process and reads its peak resident memory
(`ru_maxrss` of the child) and wall time. Prints rows, seconds, rows/s, peak MiB and the ratio of
each peak to the smallest file's (target: the largest within 1.3x), and writes
bench/stream.json. The default model is a tiny random BERT (2 layers, hidden 32) exported
without a baseline, so a million rows finish in minutes on 2 cores: memory flatness is a property
of the streaming, not of the model's size; `--model` measures a real export.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "src")]

from bench_machine import describe_machine  # noqa: E402

from toxic_tagger.atomic_files import write_json  # noqa: E402

REAL = ROOT.parent / "shared" / "data" / "jigsaw-train-15k.csv.gz"
TARGET = 1.3


def sample_texts() -> list[str]:
    """The real sample's comments, or the synthetic sample's when the real file is absent."""
    if REAL.is_file():
        with gzip.open(REAL, "rt", encoding="utf-8", newline="") as handle:
            return [row["comment_text"] for row in csv.DictReader(handle)]
    from toxic_tagger.data.synthetic import generate_sample

    return generate_sample(8000, 42)["comment_text"].tolist()


def write_rows(path: Path, texts: list[str], rows: int) -> None:
    """`rows` comments cycling through `texts`, with ids."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "comment_text"])
        for i in range(rows):
            writer.writerow([f"c{i}", texts[i % len(texts)]])


def tiny_export(target: Path) -> Path:
    """A randomly initialised 2-layer BERT with the packaged tokenizer, exported with 0.5 thresholds."""
    import numpy as np
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from toxic_tagger import LABELS
    from toxic_tagger.model.export import export_model
    from toxic_tagger.model.pretrained import resolve_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_model("sentence-transformers/all-MiniLM-L6-v2"))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, num_labels=len(LABELS), problem_type="multi_label_classification")
    torch.manual_seed(0)
    export_model(BertForSequenceClassification(config), tokenizer, target, np.full(len(LABELS), 0.5), 128,
                 {"base_model": "tiny random BERT (bench)"})
    return target


def measure(model: Path, source: Path, output: Path, runtime: str) -> dict:
    """Run the CLI on `source` in a child process; its wall time and peak RSS (MiB)."""
    probe = ("import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(rc)")
    command = [sys.executable, "-c", probe, sys.executable, "-m", "toxic_tagger.cli", "predict", "--model", str(model),
               "--input", str(source), "--output", str(output), "--overwrite", "--runtime", runtime]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"predict failed on {source}: {result.stderr.strip().splitlines()[-1]}")
    return {"seconds": round(seconds, 1), "peak_rss_mib": round(int(result.stdout.split()[-1]) / 1024, 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--model", type=Path, help="exported folder (default: a tiny random BERT built here)")
    parser.add_argument("--runtime", default="torch")
    parser.add_argument("--output", type=Path, default=HERE / "stream.json")
    args = parser.parse_args(argv)
    texts = sample_texts()
    results = []
    with tempfile.TemporaryDirectory(prefix="toxic-stream-") as tmp:
        model = args.model or tiny_export(Path(tmp) / "model")
        for rows in sorted(args.rows):
            source = Path(tmp) / f"rows-{rows}.csv"
            write_rows(source, texts, rows)
            measured = measure(model, source, Path(tmp) / "scored.csv", args.runtime)
            results.append({"rows": rows, **measured, "rows_per_second": round(rows / measured["seconds"], 1),
                            "input_mib": round(source.stat().st_size / 2**20, 1)})
            source.unlink()
    smallest = results[0]["peak_rss_mib"]
    print(f"{'rows':>10} {'input MiB':>10} {'seconds':>9} {'rows/s':>9} {'peak MiB':>9} {'vs smallest':>12}")
    for row in results:
        row["peak_vs_smallest"] = round(row["peak_rss_mib"] / smallest, 3)
        print(f"{row['rows']:>10,} {row['input_mib']:>10} {row['seconds']:>9} {row['rows_per_second']:>9} "
              f"{row['peak_rss_mib']:>9} {row['peak_vs_smallest']:>11}x")
    met = results[-1]["peak_vs_smallest"] <= TARGET
    print(f"target: largest file's peak within {TARGET}x of the smallest's: {'met' if met else 'MISSED'}")
    write_json(args.output, {"model": str(args.model or "tiny random BERT"), "runtime": args.runtime,
                             "machine": describe_machine(0), "results": results, "target": TARGET, "met": met})


if __name__ == "__main__":
    main()
