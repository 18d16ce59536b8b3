"""Atomic file output: write to a temporary sibling, then rename over the target.

A failed or interrupted stage therefore never leaves a partial file where a complete one
is expected, and a previous good output stays untouched until the new one is complete.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it to `target` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600; give the result the permissions a normal open() would.
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield a temporary directory beside `target`; swap it in for `target` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp_dir
        os.chmod(tmp_dir, 0o777 & ~_umask())  # mkdtemp creates 0700
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(tmp_dir, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp_dir, target)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def write_json(target: str | Path, data: Any) -> None:
    """Write `data` as indented JSON (keys in insertion order, so diffs line up)."""
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def write_csv(target: str | Path, frame: pd.DataFrame) -> None:
    """Write a DataFrame as UTF-8 CSV without the index."""
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8", quoting=csv_quoting(frame))


def csv_quoting(frame: pd.DataFrame) -> int:
    """Quote fields minimally (the usual), or every text field when a text or column name holds a
    carriage return. Why: Python 3.11's csv writer, under pandas' to_csv, leaves a field with a
    lone CR unquoted when lines end in LF, and every reader then ends the row there (rows split
    and shifted, silently). Files without one stay byte for byte as before."""
    texts = [frame[c] for c in frame.columns if pd.api.types.is_string_dtype(frame[c])]
    if any("\r" in str(name) for name in frame.columns) or any(
            column.astype(str).str.contains("\r", regex=False).any() for column in texts):
        return csv.QUOTE_NONNUMERIC
    return csv.QUOTE_MINIMAL


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))
