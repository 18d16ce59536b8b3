"""Comment files in and tagged files out, streamed, for `toxic-tagger predict`.

Inputs: comments as arguments, a CSV (.csv, .csv.gz or .zip) with a `comment_text` column, or a
.txt file or stdin with one comment per line (blank lines skipped). Files are read record by
record and handed on in chunks of `CHUNK_ROWS`, so memory stays flat however long the file is.
Every problem is an `InputError` naming the file and the row or line: a row with the wrong
number of fields, an empty comment, bytes that are not UTF-8.
Outputs: JSON lines on stdout, or a CSV (every input column, a probability column per tag and
`tags`) written to a temporary file and renamed over `--output` only when complete; never over
the input, never over an existing file unless asked.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from toxic_tagger import LABELS, TEXT_COLUMN
from toxic_tagger.atomic_files import atomic_path, csv_quoting
from toxic_tagger.data.comments_csv import HEADER_ROW, csv_records
from toxic_tagger.errors import InputError, ToxicTaggerError, cell

CHUNK_ROWS = 4096  # comments scored per step: large enough for full batches, small enough to stay flat
INPUT_SUFFIX = "_input"  # an input column named like a tag is kept as <tag>_input


def input_chunks(source: str | None, texts: list[str], chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """The comments to tag, in chunks of at most `chunk_rows` rows with a comment_text column
    (CSV input: every input column, as text). Raises InputError on the first bad row."""
    if source is None:
        if not texts:
            raise ToxicTaggerError("predict: give comments as arguments or --input FILE")
        for index, text in enumerate(texts, start=1):
            if not text.strip():
                raise InputError("arguments", "empty comment", f"argument {index}")
        yield pd.DataFrame({TEXT_COLUMN: texts})
    elif source == "-" or source.endswith(".txt"):
        yield from _line_chunks(source, chunk_rows)
    else:
        yield from _csv_chunks(Path(source), chunk_rows)


def _line_chunks(source: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The non-blank lines of a UTF-8 text file, or of stdin for "-"."""
    name = "<stdin>" if source == "-" else source
    lines: list[str] = []
    seen = 0
    with _opened(Path(source) if source != "-" else None, name) as handle:
        try:
            for line in handle:
                if line.strip():
                    lines.append(line.rstrip("\r\n"))
                    seen += 1
                if len(lines) == chunk_rows:
                    yield pd.DataFrame({TEXT_COLUMN: lines})
                    lines = []
        except _Undecodable as exc:
            raise InputError(name, exc.message, f"line {exc.line}") from None
    if lines:
        yield pd.DataFrame({TEXT_COLUMN: lines})
    elif not seen:
        raise InputError(name, "no comments: every line is blank")


def _csv_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Records of a CSV checked one by one: as many fields as the header (an unquoted comma
    would otherwise shift columns silently) and a non-blank comment_text."""
    name = _display_name(path)
    with _opened(path, name) as handle:
        records = _records(handle, name)
        header = next(records, None)
        if header is None:
            raise InputError(name, "file is empty; expected a header and comment rows")
        if TEXT_COLUMN not in header[1]:
            raise InputError(name, "required column missing", cell(HEADER_ROW, TEXT_COLUMN))
        columns = header[1]
        text_at = columns.index(TEXT_COLUMN)
        rows: list[list[str]] = []
        seen = 0
        for row, record in records:
            if len(record) != len(columns):
                raise InputError(name, f"{len(record)} fields but the header has {len(columns)} "
                                 "(an unquoted comma or quote in a comment?)", cell(row))
            if not record[text_at].strip():
                raise InputError(name, "empty comment", cell(row, TEXT_COLUMN))
            rows.append(record)
            seen += 1
            if len(rows) == chunk_rows:
                yield pd.DataFrame(rows, columns=columns, dtype=str)
                rows = []
    if rows:
        yield pd.DataFrame(rows, columns=columns, dtype=str)
    elif not seen:
        raise InputError(name, "no comment rows after the header")


def _records(handle: Iterator[str], name: str) -> Iterator[tuple[int, list[str]]]:
    """(row, fields) per CSV record, blank lines skipped (as pandas does); the header is row 1."""
    reader = csv_records(handle)  # a comment of any length is read whole
    row = HEADER_ROW - 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except _Undecodable as exc:
            raise InputError(name, exc.message, cell(row + 1)) from None
        except csv.Error as exc:
            raise InputError(name, f"malformed CSV: {exc}", cell(row + 1)) from exc
        if record:
            row += 1
            yield row, record


class _Undecodable(Exception):
    """A line of the input that is not UTF-8 (`line`: its 1-based number)."""

    def __init__(self, line: int, byte: int) -> None:
        super().__init__(f"line {line}")
        self.line = line
        self.message = f"not valid UTF-8 (byte 0x{byte:02x})"


def _utf8_lines(raw: IO[bytes]) -> Iterator[str]:
    """The lines of a byte stream decoded one at a time (so a bad byte is pinned to its line),
    line endings kept for the csv module, a leading BOM dropped."""
    for number, line in enumerate(raw, start=1):
        try:
            yield line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise _Undecodable(number, line[exc.start]) from None


@contextmanager
def _opened(path: Path | None, name: str) -> Iterator[Iterator[str]]:
    """The UTF-8 lines of `path` (.gz and .zip decompressed on the fly), or of stdin for None."""
    try:
        if path is None:
            raw: IO[bytes] = sys.stdin.buffer
        elif path.name.lower().endswith(".gz"):
            raw = gzip.open(path, "rb")
        elif path.name.lower().endswith(".zip"):
            raw, name = _zip_member(path)
        else:
            raw = path.open("rb")
    except OSError as exc:
        raise InputError(name, f"cannot read file: {exc.strerror or exc}") from exc
    try:
        yield _utf8_lines(raw)
    except (OSError, EOFError, zipfile.BadZipFile) as exc:  # a truncated or corrupt archive
        raise InputError(name, f"cannot read compressed file: {exc}") from exc
    finally:
        if path is not None:
            raw.close()


def _display_name(path: Path) -> str:
    """How errors name `path`: a zip archive's member too (archive.zip:train.csv)."""
    if not path.name.lower().endswith(".zip") or not zipfile.is_zipfile(path):
        return str(path)
    return _zip_member(path)[1]


def _zip_member(path: Path) -> tuple[IO[bytes], str]:
    """The one CSV inside a zip archive (train.csv when there are several), opened for reading."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise InputError(path, f"cannot read compressed file: {exc}") from exc
    members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
    preferred = [m for m in members if Path(m).name == "train.csv"] if len(members) > 1 else members
    if len(preferred) != 1:
        raise InputError(path, "zip archive holds no .csv file" if not members
                         else f"zip archive holds several CSV files {members}; expected one")
    return archive.open(preferred[0]), f"{path}:{preferred[0]}"


def check_output(output: str | None, source: str | None, overwrite: bool) -> None:
    """Refuse an --output that cannot be written or would replace a file the user has, before any
    model is loaded: the input itself always, any other existing file unless `overwrite`. Missing
    folders are not created (a typo would otherwise scatter files). `toxic-tagger report` applies
    the same rules (no `source`)."""
    if output is None:
        return
    path = Path(output)
    # os.path's tests, not Path's: they answer False for a name too long, where Path's raise
    if os.path.isdir(path) or output.endswith(("/", os.sep)):
        raise ToxicTaggerError(f"{output}: is a folder; --output takes a file path")
    if not os.path.isdir(path.parent):
        problem = "is not a folder" if os.path.exists(path.parent) else "does not exist"
        raise ToxicTaggerError(f"{output}: {path.parent} {problem}")
    if not os.access(path.parent, os.W_OK):
        raise ToxicTaggerError(f"{output}: folder {path.parent} is not writable")
    exists = os.path.exists(path)
    if exists and not os.path.isfile(path):  # a device or pipe: the rename would replace it
        raise ToxicTaggerError(f"{output}: is not a regular file; omit --output to write to stdout")
    if exists and source not in (None, "-") and path.resolve() == Path(source).resolve():
        raise ToxicTaggerError(f"{output}: is the --input file; write the tags to another file")
    if exists and not overwrite:
        raise ToxicTaggerError(f"{output}: already exists; pass --overwrite to replace it")


def tagged_frame(frame: pd.DataFrame, probs: np.ndarray, thresholds: np.ndarray,
                 truncated: np.ndarray) -> pd.DataFrame:
    """`frame`'s columns (one named like a tag renamed <tag>_input), a probability per tag
    (rounded to 6 decimals), `tags` (space-separated, at or over their thresholds) and
    `truncated` (1 where the model read only max_length of the comment's tokens)."""
    out = frame.rename(columns={label: f"{label}{INPUT_SUFFIX}" for label in LABELS if label in frame.columns})
    for j, label in enumerate(LABELS):
        out[label] = probs[:, j].round(6)
    out["tags"] = [" ".join(label for label, on in zip(LABELS, row) if on) for row in probs >= thresholds]
    out["truncated"] = truncated.astype(int)
    return out


def json_lines(texts: list[str], probs: np.ndarray, thresholds: np.ndarray, truncated: np.ndarray) -> list[str]:
    """One JSON object per comment: its text, a probability per tag, its tags and whether it was
    truncated."""
    return [json.dumps({"text": text, **{label: round(float(p), 6) for label, p in zip(LABELS, row)},
                        "tags": [label for label, p, t in zip(LABELS, row, thresholds) if p >= t],
                        "truncated": bool(cut)}, ensure_ascii=False)
            for text, row, cut in zip(texts, probs, truncated)]


@contextmanager
def csv_writer(output: str) -> Iterator:
    """A function that appends a chunk's frame to `output`'s temporary file (header once); the
    file replaces `output` only when the block ends without an error."""
    try:
        with atomic_path(output) as tmp, tmp.open("w", encoding="utf-8", newline="") as handle:
            state = {"header": True}

            def write(frame: pd.DataFrame) -> None:
                frame.to_csv(handle, index=False, header=state["header"], quoting=csv_quoting(frame))
                state["header"] = False

            yield write
    except OSError as exc:  # e.g. a full disk or a folder that refuses new files; nothing is left behind
        raise ToxicTaggerError(f"{output}: cannot write: {exc.strerror or exc}") from exc
