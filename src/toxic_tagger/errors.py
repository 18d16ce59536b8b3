"""Errors a user can fix: each names the file and the place in it (row/column or line)."""

from __future__ import annotations

from pathlib import Path


class ToxicTaggerError(Exception):
    """Base class for errors reported to the user as one line on stderr (exit status 1)."""


class InputError(ToxicTaggerError):
    """Bad input at a known place: `<file>: <where>: <message>`.

    `where` is e.g. "row 7, column 'toxic'" for tables (rows numbered as a spreadsheet
    shows them: the header is row 1) or "line 3, column 5" for YAML.
    """

    def __init__(self, path: str | Path, message: str, where: str | None = None) -> None:
        self.path = str(path)
        self.where = where
        self.message = message
        prefix = f"{self.path}: {where}: " if where else f"{self.path}: "
        super().__init__(prefix + message)


def cell(row: int | None = None, column: str | None = None) -> str | None:
    """Describe a table location: `row 7, column 'toxic'`; either part may be absent."""
    parts = []
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"column {column!r}")
    return ", ".join(parts) or None


def first_line(exc: Exception) -> str:
    """The first line of a library exception's message (its type name when it has none), for a
    one-line error: library messages often run to several lines."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
