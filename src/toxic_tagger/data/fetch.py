"""The `fetch` stage's logic: turn `fetch.source` into one validated raw comment table.

Sources: `sample` (synthetic corpus, see synthetic.py), a local `.csv`, `.csv.gz` or `.zip`
(relative paths resolve against the repository root), or an http(s) URL. An optional
`fetch.sha256` is checked against the source file's bytes before anything is parsed.
Output: the validated DataFrame plus provenance (`source`, `sha256`, row and tag counts).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from toxic_tagger import LABELS
from toxic_tagger.config import FetchParams
from toxic_tagger.data.comments_csv import parse_comments, read_source_bytes
from toxic_tagger.data.synthetic import generate_sample
from toxic_tagger.checksums import file_sha256
from toxic_tagger.errors import InputError, ToxicTaggerError
from toxic_tagger.paths import resolve_user_path

SAMPLE = "sample"


@dataclass(frozen=True)
class Fetched:
    table: pd.DataFrame
    source: str  # what the user asked for ("sample", the path or URL as given)
    sha256: str  # of the source file's bytes (for `sample`: of the generated CSV)


def fetch_comments(params: FetchParams, seed: int, root: Path, params_file: str = "params.yaml") -> Fetched:
    """Load, verify and validate the source named by `params.source`."""
    if params.source == SAMPLE:
        table = generate_sample(params.sample_rows, seed)
        data = table.to_csv(index=False).encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        check_sha256(params, digest, params_file, f"the generated sample ({params.sample_rows} rows, seed {seed})")
        return Fetched(table, SAMPLE, digest)
    if _is_url(params.source):
        with tempfile.TemporaryDirectory() as tmp:
            local = _download(params.source, Path(tmp))
            return _load_file(local, params, params_file, display=params.source)
    local = resolve_user_path(params.source, root)
    if not os.path.exists(local):  # False for a name too long, where Path.exists raises
        raise InputError(params_file, f"fetch.source: no such file {str(local)!r} (from {params.source!r})")
    return _load_file(local, params, params_file, display=params.source)


def _is_url(source: str) -> bool:
    return urllib.parse.urlparse(source).scheme in ("http", "https")


def _load_file(path: Path, params: FetchParams, params_file: str, display: str) -> Fetched:
    digest = file_sha256(path)
    check_sha256(params, digest, params_file, path)
    data, name = read_source_bytes(path)
    return Fetched(parse_comments(data, name), display, digest)


def check_sha256(params: FetchParams, digest: str, params_file: str, name: str | Path) -> None:
    """Stop when fetch.sha256 is set and `digest` (of the file or the sample named `name`) differs."""
    if params.sha256 and params.sha256.lower() != digest:
        raise InputError(
            name, f"sha256 mismatch: expected {params.sha256.lower()} (fetch.sha256 in {params_file}), got {digest}"
        )


def _download(url: str, directory: Path) -> Path:
    """Download `url` into `directory` with a progress bar; keep the URL's file name."""
    name = Path(urllib.parse.urlparse(url).path).name or "source.csv"
    target = directory / name
    try:
        with urllib.request.urlopen(url, timeout=60) as response, target.open("wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"download {name}") as bar:
                for block in iter(lambda: response.read(1 << 20), b""):
                    out.write(block)
                    bar.update(len(block))
    except OSError as exc:  # URLError, HTTPError and timeouts are OSErrors
        raise ToxicTaggerError(f"{url}: download failed: {exc}") from exc
    return target


def tag_counts(table: pd.DataFrame) -> dict[str, int]:
    """Positives per tag plus the number of rows with no tag."""
    counts = {label: int(table[label].sum()) for label in LABELS}
    counts["untagged"] = int((table.loc[:, list(LABELS)].sum(axis=1) == 0).sum())
    return counts

