"""Locate the repository root and resolve user-supplied paths against it.

`dvc exp run --queue` / `--temp` run each experiment in a copy of the repository under
`<root>/.dvc/tmp/exps/<name>/`, where a relative path such as `../shared/data.csv` no longer
points where the user meant. Relative paths are therefore resolved against the repository
root, and inside such a copy also against the original repository it was made from.
"""

from __future__ import annotations

import os
from pathlib import Path

_EXP_COPY_MARKER = (".dvc", "tmp", "exps")


def repo_root(start: str | Path | None = None) -> Path:
    """The nearest directory at or above `start` (default: cwd) that holds dvc.yaml."""
    here = Path(start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "dvc.yaml").is_file():
            return candidate
    return here


def original_root(root: Path) -> Path | None:
    """If `root` is a DVC experiment copy (`<repo>/.dvc/tmp/exps/<name>`), return `<repo>`."""
    parts = root.parts
    for i in range(len(parts) - len(_EXP_COPY_MARKER)):
        if parts[i : i + len(_EXP_COPY_MARKER)] == _EXP_COPY_MARKER:
            return Path(*parts[:i])
    return None


def resolve_user_path(value: str | Path, root: Path | None = None) -> Path:
    """Resolve `value`: absolute as is; relative against the repo root, then the original repo."""
    try:
        path = Path(value).expanduser()
    except RuntimeError:  # `~name/...` of no known user: kept as written, so "no such file" names it
        path = Path(value)
    if path.is_absolute():
        return path
    root = root or repo_root()
    candidate = (root / path).resolve()
    # os.path.exists: False for a name too long for the file system, where Path.exists raises
    if os.path.exists(candidate):
        return candidate
    origin = original_root(root)
    if origin is not None and os.path.exists(origin / path):
        return (origin / path).resolve()
    return candidate
