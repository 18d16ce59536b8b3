"""Read and validate comment tables in the Jigsaw schema.

Input: CSV bytes (plain, gzip or a zip holding one CSV) with the columns
`id, comment_text, toxic, severe_toxic, obscene, threat, insult, identity_hate` (extra
columns are dropped). Output: a DataFrame with `id` and `comment_text` as strings and the
six labels as int8 0/1. Every problem raises `InputError` naming the file, the row (as a
spreadsheet numbers it: header = row 1) and the column.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from toxic_tagger import COLUMNS, ID_COLUMN, LABELS, TEXT_COLUMN
from toxic_tagger.errors import InputError, cell

HEADER_ROW = 1  # rows are numbered as in a spreadsheet: header row 1, first data row 2
# The csv module stops at a field over 131072 characters by default: one long comment would
# end the read in a traceback. 2**31 - 1 is the largest limit every platform's C long holds.
FIELD_SIZE_LIMIT = 2**31 - 1
UTF8_BLOCK = 1 << 20  # bytes decoded at a time when checking a file's encoding


def csv_records(lines: Iterable[str], **options) -> Iterator[list[str]]:
    """`csv.reader(lines, **options)` that reads a comment of any length whole."""
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    return csv.reader(lines, **options)


def read_source_bytes(path: Path) -> tuple[bytes, str]:
    """Return the CSV bytes of `path` (.csv, .csv.gz or .zip) and a display name for errors."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read file: {exc.strerror or exc}") from exc
    name = path.name.lower()
    try:
        if name.endswith(".gz"):
            return gzip.decompress(raw), str(path)
        if name.endswith(".zip"):
            return _read_zip_member(path, raw)
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(path, f"cannot read compressed file: {exc}") from exc
    return raw, str(path)


def _read_zip_member(path: Path, raw: bytes) -> tuple[bytes, str]:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
        if not members:
            raise InputError(path, "zip archive holds no .csv file")
        if len(members) > 1:
            preferred = [m for m in members if Path(m).name == "train.csv"]
            if not preferred:
                raise InputError(path, f"zip archive holds several CSV files {members}; expected one")
            members = preferred
        return archive.read(members[0]), f"{path}:{members[0]}"


def parse_comments(data: bytes, name: str) -> pd.DataFrame:
    """Decode, parse and validate CSV bytes; `name` is used in error messages."""
    return validate_comments(read_csv_text(data, name), name)


def read_csv_text(data: bytes, name: str) -> pd.DataFrame:
    """UTF-8 CSV bytes as a frame of strings (empty cells stay ""), once every row is known to
    have the header's number of fields; `name` is used in error messages.

    Every pass reads the bytes a block at a time (`_text_stream`), never the whole text
    decoded: a str of the whole file takes up to 4 bytes a character (one emoji anywhere makes
    it so) and a StringIO over it as much again, ~8x the file together (~530 MiB for the
    competition's 68 MB train.csv), where the parsed table takes ~1.7x."""
    if not data.strip():
        raise InputError(name, "file is empty; expected a header and comment rows")
    _check_utf8(data, name)
    _check_shape(data, name)
    try:
        return pd.read_csv(_text_stream(data), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        raise InputError(name, f"malformed CSV: {exc}") from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(name, "file is empty; expected a header and comment rows") from exc


def _text_stream(data: bytes) -> io.TextIOWrapper:
    """The text of UTF-8 `data` as a file read in blocks; line ends as they are (newline="")."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")


def _check_utf8(data: bytes, name: str) -> None:
    """Stop at the first undecodable byte (naming its row and column), decoding a block at a time."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), UTF8_BLOCK):
            decoder.decode(view[start : start + UTF8_BLOCK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        _decode_utf8(data, name)  # raises the error with its offset, row and column


def _check_shape(data: bytes, name: str) -> None:
    """Every row has as many fields as the header, and no quoted field runs to the end of the
    file. Why: when every row has one field more (an unquoted comma in each comment), pandas
    takes the first column as the index and shifts the rest, with no error at all."""
    _check_quotes_closed(data, name)
    # Lenient quoting, as pandas reads it ('"Hi" there' is one field); blank lines skipped, as
    # pandas does, so rows are numbered as `_row` numbers them.
    records = (record for record in csv_records(_text_stream(data)) if record)
    header = next(records, [])
    for offset, record in enumerate(records):
        if len(record) != len(header):
            raise InputError(name, f"{len(record)} fields but the header has {len(header)} "
                             "(an unquoted comma or quote in a comment?)", cell(HEADER_ROW + 1 + offset))


def _check_quotes_closed(data: bytes, name: str) -> None:
    """Name the row of a quoted field left open at the end of the file (only the csv module's
    strict mode reports it; its other complaints are quotes pandas reads leniently)."""
    reader = csv_records(_text_stream(data), strict=True)
    row = HEADER_ROW - 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row += 1
            if "unexpected end of data" in str(exc):
                raise InputError(name, "a quoted field opened on this row is never closed", cell(row)) from exc
            continue
        row += bool(record)


def _decode_utf8(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row, column = _locate_undecodable(data)
        raise InputError(
            name, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            cell(row, column),
        ) from exc


def _locate_undecodable(data: bytes) -> tuple[int | None, str | None]:
    """Find the row and column of the first undecodable byte (as a surrogate escape)."""
    text = data.decode("utf-8-sig", errors="surrogateescape")
    reader = csv_records(io.StringIO(text, newline=""))
    header: list[str] = []
    for index, record in enumerate(reader):
        if index == 0:
            header = record
        for position, value in enumerate(record):
            if any("\udc80" <= ch <= "\udcff" for ch in value):
                column = header[position] if index > 0 and position < len(header) else None
                return HEADER_ROW + index, column
    return None, None


def validate_comments(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Check schema and values of a string-typed frame; return it typed (labels int8)."""
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(
            name, f"required column missing (expected columns: {', '.join(COLUMNS)})",
            cell(HEADER_ROW, missing[0]),
        )
    if frame.empty:
        raise InputError(name, "no data rows after the header")
    frame = frame.loc[:, list(COLUMNS)].reset_index(drop=True)
    check_non_empty(frame, ID_COLUMN, name)
    _check_unique_ids(frame, name)
    check_non_empty(frame, TEXT_COLUMN, name)
    labels = {label: _check_binary(frame[label], label, name) for label in LABELS}
    return pd.DataFrame(
        {ID_COLUMN: frame[ID_COLUMN].astype(str), TEXT_COLUMN: frame[TEXT_COLUMN].astype(str), **labels}
    )


def _row(index: int) -> int:
    return HEADER_ROW + 1 + int(index)


def check_non_empty(frame: pd.DataFrame, column: str, name: str,
                    problem: str = "empty value (NaN or blank); every row needs one") -> None:
    """Stop at the first NaN or blank cell of `column`, naming its row (as a spreadsheet numbers it)."""
    values = frame[column]
    bad = values.isna() | (values.astype(str).str.strip() == "")
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(name, problem, cell(_row(first), column))


def _check_unique_ids(frame: pd.DataFrame, name: str) -> None:
    duplicated = frame[ID_COLUMN].duplicated(keep=False).to_numpy()
    if duplicated.any():
        rows = np.flatnonzero(duplicated)
        value = frame[ID_COLUMN].iloc[rows[0]]
        again = [r for r in rows[1:] if frame[ID_COLUMN].iloc[r] == value][0]
        raise InputError(
            name, f"duplicate id {value!r} (also on row {_row(rows[0])})", cell(_row(again), ID_COLUMN)
        )


def _check_binary(values: pd.Series, label: str, name: str) -> np.ndarray:
    text = values.astype(str).str.strip()
    bad = ~text.isin(["0", "1"])
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(name, f"label must be 0 or 1, got {values.iloc[first]!r}", cell(_row(first), label))
    return (text == "1").to_numpy().astype(np.int8)


def read_split(path: str | Path) -> pd.DataFrame:
    """Read a split written by this pipeline (same schema; validated again, cheaply)."""
    path = Path(path)
    data, name = read_source_bytes(path)
    return parse_comments(data, name)


def label_matrix(frame: pd.DataFrame) -> np.ndarray:
    """Labels as a float32 multi-hot matrix: (rows, 6)."""
    return frame.loc[:, list(LABELS)].to_numpy(dtype=np.float32)
