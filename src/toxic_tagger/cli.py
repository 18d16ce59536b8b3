"""`toxic-tagger` command line: argument parsing only; each command calls the library.

    toxic-tagger predict "you idiot" "thanks for the fix"        # JSON lines on stdout
    toxic-tagger predict --input comments.csv --output tags.csv   # every input column + a score per tag, streamed
    toxic-tagger predict --runtime onnxruntime-int8 --input big.csv --output tags.csv  # fast path
    toxic-tagger predict --runtime openvino-bf16 --input big.csv --output tags.csv     # fastest on CPUs with AMX
    echo "some comment" | toxic-tagger predict --input -          # one comment per line
    toxic-tagger serve --model models/toxic-tagger --port 8000     # HTTP: POST /predict, GET /health, /metadata
    toxic-tagger report --base main --output report.md            # Markdown params/metrics diff
    toxic-tagger table metrics/eval.json metrics/baseline.json     # per-tag results tables
    toxic-tagger check-params params.yaml                          # every rule a stage applies (dvc repro runs it first)

Errors (missing model, bad CSV, unknown base revision) print one line on stderr and exit with status 1;
a bad option or option value (`--threads -1`) one line too, with argparse's status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from pathlib import Path
from typing import NoReturn

from toxic_tagger import __version__
from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.predict.runtimes import RUNTIMES

DEFAULT_MODEL = "models/toxic-tagger"
ONNX_CACHE = Path.home() / ".cache" / "toxic-tagger" / "onnx"


class OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line too (exit status 2, argparse's own), without the
    usage block: `--help` shows it."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# Option types: a value out of range is refused while parsing, before any model loads.
def _integer(text: str, low: int, high: int | None, allowed: str) -> int:
    """`text` as an int in [low, high]; anything else is an argparse usage error (exit 2)."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        raise argparse.ArgumentTypeError(f"expected {allowed}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    return _integer(text, 1, None, "an integer >= 1")


def non_negative_int(text: str) -> int:
    return _integer(text, 0, None, "an integer >= 0")


def port_number(text: str) -> int:
    return _integer(text, 1, 65535, "a port number from 1 to 65535")


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value >= 0 or math.isinf(value):  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="toxic-tagger", description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser("predict", help="tag comments with an exported model")
    predict.add_argument("texts", nargs="*", help="comments to tag (or use --input)")
    predict.add_argument("--model", default=DEFAULT_MODEL, help=f"exported model directory (default {DEFAULT_MODEL})")
    predict.add_argument("--input", help="CSV with a comment_text column, a .txt file, or - for stdin lines")
    predict.add_argument("--output", help="write CSV here instead of JSON lines on stdout (its folder must exist)")
    predict.add_argument("--overwrite", action="store_true", help="replace --output if it already exists")
    predict.add_argument("--max-tokens-per-batch", type=positive_int, default=2048,
                         help="padded tokens per batch (default 2048: faster on CPU than larger batches, see bench/README.md)")
    predict.add_argument("--threads", type=non_negative_int, default=0, help="torch threads (0 = all cores)")
    predict.add_argument("--runtime", default="torch", choices=RUNTIMES,
                         help="torch (default); torch-bf16: matmuls in bf16, fast on CPUs with AMX (slow elsewhere); "
                              "onnxruntime: the same model as a fused ONNX graph; onnxruntime-int8: "
                              "also int8 weights, fastest without AMX, probabilities move slightly (see README); "
                              "openvino: compiled by OpenVINO; openvino-bf16: OpenVINO in bf16, fastest with AMX")
    predict.add_argument("--onnx-cache", default=str(ONNX_CACHE),
                         help=f"where built ONNX Runtime and OpenVINO graphs are kept, keyed by the weights "
                              f"(default {ONNX_CACHE})")
    report = commands.add_parser("report", help="Markdown diff of params and metrics against a base revision")
    report.add_argument("--base", required=True, help="git revision to compare the workspace with (e.g. main)")
    report.add_argument("--repo", default=".", help="directory inside the git + DVC repository (default .)")
    report.add_argument("--output", help="write the Markdown here instead of stdout (its folder must exist)")
    report.add_argument("--overwrite", action="store_true", help="replace --output if it already exists")
    report.add_argument("--plots-dir", help="folder of rendered plots (images / HTML) to embed or link")
    report.add_argument("--plots-url", help="where the rendered plots are published (e.g. the CI run)")
    table = commands.add_parser("table", help="Markdown per-tag table of a metrics JSON (eval.json layout)")
    table.add_argument("metrics", nargs="+", help="metrics/eval.json, metrics/baseline.json, ...")
    table.add_argument("--split", default="test", choices=("test", "val"))
    serve = commands.add_parser("serve", help="HTTP service: POST /predict, GET /health, GET /metadata")
    serve.add_argument("--model", default=DEFAULT_MODEL, help=f"exported model directory (default {DEFAULT_MODEL})")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=port_number, default=8000)
    serve.add_argument("--runtime", default="torch", choices=RUNTIMES)
    serve.add_argument("--threads", type=non_negative_int, default=0, help="torch threads (0 = all cores)")
    serve.add_argument("--max-texts", type=positive_int, default=256, help="comments per request (default 256)")
    serve.add_argument("--max-text-chars", type=positive_int, default=20_000, help="characters per comment (default 20000)")
    serve.add_argument("--max-body-bytes", type=positive_int, default=1 << 20, help="request body size (default 1 MiB)")
    serve.add_argument("--batch-window-ms", type=non_negative_float, default=5.0,
                       help="how long a request waits for concurrent ones to share its model call (default 5)")
    serve.add_argument("--no-batching", action="store_true", help="score every request in a call of its own")
    check = commands.add_parser("check-params", help="check params.yaml: keys, types, value ranges, rules between keys, "
                                "the data source and the model (what every stage would reject)")
    check.add_argument("path", nargs="?", default="params.yaml")
    return parser


def predict_command(args: argparse.Namespace) -> None:
    import itertools

    from tqdm import tqdm

    from toxic_tagger import TEXT_COLUMN
    from toxic_tagger.predict.batch_files import check_output, csv_writer, input_chunks, json_lines, tagged_frame
    from toxic_tagger.predict.tagger import Tagger
    from toxic_tagger.runtime import configure_threads

    check_output(args.output, args.input, args.overwrite)
    chunks = input_chunks(args.input, args.texts)
    first = next(chunks)  # input errors in the first chunk stop before the model loads
    configure_threads(args.threads)
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # its weight-loading bar; predict's own bar is for long inputs
    tagger = Tagger.load(args.model, runtime=args.runtime, max_tokens_per_batch=args.max_tokens_per_batch,
                         onnx_cache=args.onnx_cache, progress=False)
    thresholds = tagger.exported.thresholds
    rows = tqdm(desc="predict", unit=" rows", disable=None, file=sys.stderr)  # shown on a terminal only
    written = 0
    with csv_writer(args.output) if args.output else _stdout_writer() as write:
        for frame in itertools.chain([first], chunks):
            texts = frame[TEXT_COLUMN].tolist()
            probs, cut = tagger.predict_proba(texts), tagger.truncated(texts)
            write(tagged_frame(frame, probs, thresholds, cut) if args.output else json_lines(texts, probs, thresholds, cut))
            rows.update(len(frame))
            written += len(frame)
    rows.close()
    if args.output:
        print(f"wrote {written} rows to {args.output}", file=sys.stderr)


@contextlib.contextmanager
def _stdout_writer():
    """Print each chunk's JSON lines as they come."""
    yield lambda lines: print("\n".join(lines), flush=True)


def report_command(args: argparse.Namespace) -> None:
    from toxic_tagger.evaluate.change_report import write_report
    from toxic_tagger.predict.batch_files import check_output

    check_output(args.output, None, args.overwrite)  # predict's rules: no silent overwrite, no new folders
    write_report(Path(args.repo), args.base, Path(args.output) if args.output else None,
                 Path(args.plots_dir) if args.plots_dir else None, args.plots_url)


def table_command(args: argparse.Namespace) -> None:
    from toxic_tagger.evaluate.results_table import metrics_tables

    print(metrics_tables(args.metrics, args.split))


def serve_command(args: argparse.Namespace) -> None:
    from toxic_tagger.predict.runtimes import require_extra

    require_extra("fastapi", "serve", "serve")
    require_extra("uvicorn", "serve", "serve")
    from toxic_tagger.predict.service import Limits, serve
    from toxic_tagger.predict.tagger import Tagger
    from toxic_tagger.runtime import configure_threads

    limits = Limits(max_body_bytes=args.max_body_bytes, max_texts=args.max_texts, max_text_chars=args.max_text_chars,
                    window_ms=args.batch_window_ms, batching=not args.no_batching)
    configure_threads(args.threads)
    serve(Tagger.load(args.model, runtime=args.runtime, progress=False), args.host, args.port, limits)


def check_params_command(args: argparse.Namespace) -> None:
    from toxic_tagger.config import check_params
    from toxic_tagger.model.pretrained import max_positions
    from toxic_tagger.paths import repo_root

    path = Path(args.path)
    check_params(path, repo_root(path.resolve().parent), max_positions)
    print(f"{args.path}: ok")


COMMANDS = {"predict": predict_command, "report": report_command, "table": table_command,
            "serve": serve_command, "check-params": check_params_command}


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except ToxicTaggerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    except BrokenPipeError:  # `toxic-tagger predict ... | head`: the reader left; end quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        sys.exit(0)


if __name__ == "__main__":
    main()
