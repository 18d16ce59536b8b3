"""`toxic-tagger` command line: argument parsing only; each command calls the library.

    toxic-tagger predict "you idiot" "thanks for the fix"        # JSON lines on stdout
    toxic-tagger predict --input comments.csv --output tags.csv   # CSV with comment_text (+ id)
    toxic-tagger predict --runtime onnxruntime-int8 --input big.csv --output tags.csv  # fast path
    echo "some comment" | toxic-tagger predict --input -          # one comment per line
    toxic-tagger report --base main --output report.md            # Markdown params/metrics diff
    toxic-tagger table metrics/eval.json metrics/baseline.json     # per-tag results tables
    toxic-tagger check-params params.yaml                          # keys, types and ranges (make repro runs it first)

Errors (missing model, bad CSV, unknown base revision) print one line on stderr and exit with status 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.predict.runtimes import RUNTIMES

DEFAULT_MODEL = "models/toxic-tagger"
ONNX_CACHE = Path.home() / ".cache" / "toxic-tagger" / "onnx"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toxic-tagger", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser("predict", help="tag comments with an exported model")
    predict.add_argument("texts", nargs="*", help="comments to tag (or use --input)")
    predict.add_argument("--model", default=DEFAULT_MODEL, help=f"exported model directory (default {DEFAULT_MODEL})")
    predict.add_argument("--input", help="CSV with a comment_text column, a .txt file, or - for stdin lines")
    predict.add_argument("--output", help="write CSV here instead of JSON lines on stdout (its folder must exist)")
    predict.add_argument("--overwrite", action="store_true", help="replace --output if it already exists")
    predict.add_argument("--max-tokens-per-batch", type=int, default=2048,
                         help="padded tokens per batch (default 2048: faster on CPU than larger batches, see bench/README.md)")
    predict.add_argument("--threads", type=int, default=0, help="torch threads (0 = all cores)")
    predict.add_argument("--runtime", default="torch", choices=RUNTIMES,
                         help="torch (default); torch-bf16: matmuls in bf16, fast on CPUs with AMX (slow elsewhere); "
                              "onnxruntime: the same model as a fused ONNX graph; onnxruntime-int8: "
                              "also int8 weights, fastest without AMX, probabilities move slightly (see README)")
    predict.add_argument("--onnx-cache", default=str(ONNX_CACHE),
                         help=f"where built ONNX graphs are kept, keyed by the weights (default {ONNX_CACHE})")
    report = commands.add_parser("report", help="Markdown diff of params and metrics against a base revision")
    report.add_argument("--base", required=True, help="git revision to compare the workspace with (e.g. main)")
    report.add_argument("--repo", default=".", help="directory inside the git + DVC repository (default .)")
    report.add_argument("--output", help="write the Markdown here instead of stdout")
    report.add_argument("--plots-dir", help="folder of rendered plots (images / HTML) to embed or link")
    report.add_argument("--plots-url", help="where the rendered plots are published (e.g. the CI run)")
    table = commands.add_parser("table", help="Markdown per-tag table of a metrics JSON (eval.json layout)")
    table.add_argument("metrics", nargs="+", help="metrics/eval.json, metrics/baseline.json, ...")
    table.add_argument("--split", default="test", choices=("test", "val"))
    check = commands.add_parser("check-params", help="check params.yaml's keys, types and value ranges")
    check.add_argument("path", nargs="?", default="params.yaml")
    return parser


def predict_command(args: argparse.Namespace) -> None:
    from toxic_tagger import TEXT_COLUMN
    from toxic_tagger.model.export import load_exported
    from toxic_tagger.predict.batch_files import check_output, json_lines, read_inputs, write_tagged_csv
    from toxic_tagger.predict.runtimes import predict_with_runtime
    from toxic_tagger.runtime import configure_threads

    check_output(args.output, args.input, args.overwrite)
    frame = read_inputs(args.input, args.texts)
    configure_threads(args.threads)
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # its weight-loading bar; predict's own bar is for long inputs
    exported = load_exported(args.model)
    texts = frame[TEXT_COLUMN].tolist()
    probs = predict_with_runtime(exported, texts, args.runtime, args.max_tokens_per_batch, args.onnx_cache)
    tags = probs >= exported.thresholds[None, :]
    if args.output:
        write_tagged_csv(args.output, frame, probs, tags)
        print(f"wrote {len(frame)} rows to {args.output}", file=sys.stderr)
        return
    for line in json_lines(texts, probs, tags):
        print(line)


def report_command(args: argparse.Namespace) -> None:
    from toxic_tagger.evaluate.change_report import write_report

    write_report(Path(args.repo), args.base, Path(args.output) if args.output else None,
                 Path(args.plots_dir) if args.plots_dir else None, args.plots_url)


def table_command(args: argparse.Namespace) -> None:
    from toxic_tagger.evaluate.results_table import metrics_tables

    print(metrics_tables(args.metrics, args.split))


def check_params_command(args: argparse.Namespace) -> None:
    from toxic_tagger.config import load_params

    load_params(args.path)
    print(f"{args.path}: ok")


COMMANDS = {"predict": predict_command, "report": report_command, "table": table_command,
            "check-params": check_params_command}


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except ToxicTaggerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
