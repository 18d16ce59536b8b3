"""`toxic-tagger` command line: tag comments with an exported model.

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
import json
import os
import sys
from pathlib import Path

import pandas as pd

from toxic_tagger import ID_COLUMN, LABELS, TEXT_COLUMN
from toxic_tagger.errors import InputError, ToxicTaggerError, cell
from toxic_tagger.io import write_csv
from toxic_tagger.report import add_report_parser, report_command
from toxic_tagger.table import check_non_empty, read_csv_text, read_source_bytes

DEFAULT_MODEL = "models/toxic-tagger"
RUNTIMES = ("torch", "torch-bf16", "onnxruntime", "onnxruntime-int8")
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
    add_report_parser(commands)
    table = commands.add_parser("table", help="Markdown per-tag table of a metrics JSON (eval.json layout)")
    table.add_argument("metrics", nargs="+", help="metrics/eval.json, metrics/baseline.json, ...")
    table.add_argument("--split", default="test", choices=("test", "val"))
    check = commands.add_parser("check-params", help="check params.yaml's keys, types and value ranges")
    check.add_argument("path", nargs="?", default="params.yaml")
    return parser


def read_inputs(source: str | None, texts: list[str]) -> pd.DataFrame:
    """Comments to tag as a frame with comment_text (and id when the CSV has one)."""
    if source is None:
        if not texts:
            raise ToxicTaggerError("predict: give comments as arguments or --input FILE")
        return pd.DataFrame({TEXT_COLUMN: texts})
    if source == "-" or source.endswith(".txt"):
        return pd.DataFrame({TEXT_COLUMN: _read_lines(source)})
    return _read_csv(Path(source))


def _read_lines(source: str) -> list[str]:
    """The non-blank lines of a UTF-8 text file, or of stdin for "-"."""
    name = "<stdin>" if source == "-" else source
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise InputError(name, f"cannot read file: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(name, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", f"line {line}") from exc
    lines = [line.rstrip("\r") for line in text.split("\n") if line.strip()]
    if not lines:
        raise InputError(name, "no comments: every line is blank")
    return lines


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV (.csv, .csv.gz or .zip) with a comment_text column, checked as `fetch` checks its source."""
    data, name = read_source_bytes(path)
    frame = read_csv_text(data, name)
    if TEXT_COLUMN not in frame.columns:
        raise InputError(name, "required column missing", cell(1, TEXT_COLUMN))
    if frame.empty:
        raise InputError(name, "no comment rows after the header")
    check_non_empty(frame, TEXT_COLUMN, name, "empty comment")
    keep = [c for c in (ID_COLUMN, TEXT_COLUMN) if c in frame.columns]
    return frame.loc[:, keep]


def check_output(output: str | None, source: str | None, overwrite: bool) -> None:
    """Refuse an --output that cannot be written or would replace a file the user has, before any
    model is loaded: the input itself always, any other existing file unless `overwrite`."""
    if output is None:
        return
    path = Path(output)
    if path.is_dir() or output.endswith(("/", os.sep)):
        raise ToxicTaggerError(f"{output}: is a folder; --output takes a file path")
    if not path.parent.is_dir():
        problem = "is not a folder" if path.parent.exists() else "does not exist"
        raise ToxicTaggerError(f"{output}: {path.parent} {problem}")
    if not os.access(path.parent, os.W_OK):
        raise ToxicTaggerError(f"{output}: folder {path.parent} is not writable")
    if path.exists() and not path.is_file():  # a device or pipe: the rename would replace it
        raise ToxicTaggerError(f"{output}: is not a regular file; omit --output to print JSON lines")
    if path.exists() and source not in (None, "-") and path.resolve() == Path(source).resolve():
        raise ToxicTaggerError(f"{output}: is the --input file; write the tags to another file")
    if path.exists() and not overwrite:
        raise ToxicTaggerError(f"{output}: already exists; pass --overwrite to replace it")


def predict_command(args: argparse.Namespace) -> None:
    from toxic_tagger.export import load_exported
    from toxic_tagger.precision import warn_if_emulated
    from toxic_tagger.predict import predict_exported
    from toxic_tagger.runtime import configure_threads

    check_output(args.output, args.input, args.overwrite)
    frame = read_inputs(args.input, args.texts)
    configure_threads(args.threads)
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # its weight-loading bar; predict's own bar is for long inputs
    model = load_exported(args.model)
    texts = frame[TEXT_COLUMN].tolist()
    if args.runtime.startswith("torch"):
        precision = "bf16" if args.runtime == "torch-bf16" else "fp32"
        warn_if_emulated(precision)
        probs = predict_exported(model, texts, args.max_tokens_per_batch, progress=len(frame) > 1000,
                                 precision=precision)
    else:
        from toxic_tagger.fast_predict import build_session, predict_exported_fast

        kind = "int8" if args.runtime.endswith("int8") else "fp32"
        session = build_session(model.model, model.max_length, kind=kind, cache_dir=args.onnx_cache)
        probs = predict_exported_fast(model, session, texts, args.max_tokens_per_batch)
    tags = probs >= model.thresholds[None, :]
    if args.output:
        out = frame.copy()
        for j, label in enumerate(LABELS):
            out[label] = probs[:, j].round(6)
        out["tags"] = [" ".join(label for label, on in zip(LABELS, row) if on) for row in tags]
        try:
            write_csv(args.output, out)
        except OSError as exc:  # e.g. a folder that refuses new files; nothing is left behind
            raise ToxicTaggerError(f"{args.output}: cannot write: {exc.strerror or exc}") from exc
        print(f"wrote {len(out)} rows to {args.output}", file=sys.stderr)
        return
    for i, text in enumerate(frame[TEXT_COLUMN]):
        record = {"text": text, **{label: round(float(p), 6) for label, p in zip(LABELS, probs[i])},
                  "tags": [label for label, on in zip(LABELS, tags[i]) if on]}
        print(json.dumps(record, ensure_ascii=False))


def table_command(args: argparse.Namespace) -> None:
    """Print the per-tag table of each metrics file (what the README's results tables show)."""
    from toxic_tagger.model_card import metrics_table

    tables = []  # all read before any is printed: a bad file prints nothing
    for path in args.metrics:
        try:
            content = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ToxicTaggerError(f"{path}: cannot read: {exc}") from exc
        if not isinstance(content, dict) or args.split not in content:
            raise ToxicTaggerError(f"{path}: no {args.split!r} entry; expected metrics/eval.json's layout")
        try:
            tables.append(f"{path} ({args.split} split)\n\n{metrics_table(content[args.split])}\n")
        except (KeyError, TypeError, IndexError, ValueError) as exc:  # another JSON, e.g. metrics/split.json
            raise ToxicTaggerError(f"{path}: the {args.split!r} entry is not in metrics/eval.json's layout "
                                   f"(per-tag metrics; missing or malformed: {exc})") from exc
    print("\n".join(tables))


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "predict":
            predict_command(args)
        elif args.command == "report":
            report_command(args)
        elif args.command == "table":
            table_command(args)
        elif args.command == "check-params":
            from toxic_tagger.config import load_params

            load_params(args.path)
            print(f"{args.path}: ok")
    except ToxicTaggerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
