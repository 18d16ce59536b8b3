"""Helpers the hostile-input tests share (tests/test_hostile_*.py)."""

import os
from pathlib import Path

from conftest import ROOT
from hypothesis import HealthCheck

PARAMS_TEXT = (ROOT / "params.yaml").read_text(encoding="utf-8")
USES_CAPSYS = [HealthCheck.function_scoped_fixture]  # capsys is read and emptied on every example

def assert_one_line(message: str) -> None:
    assert message.strip() and len(message.strip().splitlines()) == 1, repr(message)


def files_in(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def csv_text(rows: list[list[str]], ending: str = "\n") -> str:
    """Rows as CSV, a field quoted when it holds a comma, a quote, CR or LF (csv.writer leaves a
    lone CR bare when lines end in LF, and a reader then ends the row there)."""
    def field(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\r\n') else value

    return "".join(",".join(map(field, row)) + ending for row in rows)


