"""What every measured part of the benchmark shares: its comments and its memory readings."""

from __future__ import annotations

import json
import resource
from pathlib import Path

import numpy as np
import psutil


def load_comments(cfg: dict, split: str) -> tuple[list[str], np.ndarray]:
    """Texts and (n, 6) float32 labels of `split` ("train" or "predict") from the comments file."""
    data = json.loads(Path(cfg["comments"]).read_text(encoding="utf-8"))[split]
    return data["texts"], np.asarray(data["labels"], dtype=np.float32)


def rss_mb() -> float:
    """Current resident memory of this process, MiB."""
    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
