"""sha256 of files: the data source (fetch.sha256), the packaged base model and an export's
weights (their integrity records). One reader, in blocks, so large files never sit in memory."""

from __future__ import annotations

import hashlib
from pathlib import Path

from toxic_tagger.errors import InputError

BLOCK = 1 << 20


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of `path`'s bytes; InputError naming the file when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as handle:
            for block in iter(lambda: handle.read(BLOCK), b""):
                digest.update(block)
    except OSError as exc:
        raise InputError(path, f"cannot read file: {exc.strerror or exc}") from exc
    return digest.hexdigest()
