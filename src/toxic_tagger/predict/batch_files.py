"""Comment files in and tagged files out, for `toxic-tagger predict`.

Inputs: comments as arguments, a CSV (.csv, .csv.gz or .zip) with a `comment_text` column
(and `id`, kept when present), a .txt file or stdin with one comment per line. Every problem
is an `InputError` naming the file and the row or line. Outputs: JSON lines on stdout, or a CSV
(the input's id and text, one probability column per tag, `tags`) written atomically, never
over the input and never over an existing file unless asked.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from toxic_tagger import ID_COLUMN, LABELS, TEXT_COLUMN
from toxic_tagger.atomic_files import write_csv
from toxic_tagger.data.comments_csv import check_non_empty, read_csv_text, read_source_bytes
from toxic_tagger.errors import InputError, ToxicTaggerError, cell


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


def tag_names(tags: np.ndarray) -> list[list[str]]:
    """The tags over their thresholds per comment, from a (n, 6) boolean matrix."""
    return [[label for label, on in zip(LABELS, row) if on] for row in tags]


def write_tagged_csv(output: str, frame: pd.DataFrame, probs: np.ndarray, tags: np.ndarray) -> None:
    """`frame` (id and comment_text) plus a probability column per tag and a space-separated
    `tags` column, written atomically to `output`."""
    out = frame.copy()
    for j, label in enumerate(LABELS):
        out[label] = probs[:, j].round(6)
    out["tags"] = [" ".join(names) for names in tag_names(tags)]
    try:
        write_csv(output, out)
    except OSError as exc:  # e.g. a folder that refuses new files; nothing is left behind
        raise ToxicTaggerError(f"{output}: cannot write: {exc.strerror or exc}") from exc


def json_lines(texts: list[str], probs: np.ndarray, tags: np.ndarray) -> list[str]:
    """One JSON object per comment: its text, a probability per tag and its tags."""
    return [json.dumps({"text": text, **{label: round(float(p), 6) for label, p in zip(LABELS, row)},
                        "tags": names}, ensure_ascii=False)
            for text, row, names in zip(texts, probs, tag_names(tags))]
