"""What every measured part of the benchmark shares: its comments, its memory readings and (training
sides of bench_peers.py) its phase timings and params."""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psutil


def load_comments(cfg: dict, split: str) -> tuple[list[str], np.ndarray]:
    """Texts and (n, 6) float32 labels of `split` ("train" or "predict") from the comments file."""
    data = json.loads(Path(cfg["comments"]).read_text(encoding="utf-8"))[split]
    return data["texts"], np.asarray(data["labels"], dtype=np.float32)


def child_main(run_part: Callable[[str, dict], dict], argv: list[str]) -> None:
    """A measured part's child process: argv is the part's name, its config JSON and the result
    JSON to write; the result is `run_part(name, config)`."""
    from toxic_tagger.atomic_files import write_json

    name, config_path, result_path = argv
    cfg = json.loads(Path(config_path).read_text(encoding="utf-8"))
    write_json(result_path, run_part(name, cfg))


def rss_mb() -> float:
    """Current resident memory of this process, MiB."""
    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


PHASES = ("forward", "backward", "optimizer", "validation")


class Phases:
    """A training side's seconds per phase (PHASES; `other` is the fit's wall time less them),
    samples and tokens of its training batches, and its val mean AUROC after each epoch."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(PHASES, 0.0)
        self.samples = self.real_tokens = self.padded_tokens = 0
        self.val_mean_auroc: list[float] = []
        self.mark = 0.0

    def lap(self, phase: str) -> None:
        """Add the time since the last mark to `phase`; mark now."""
        now = time.perf_counter()
        self.seconds[phase] += now - self.mark
        self.mark = now

    def count(self, attention_mask) -> None:
        """One training batch: attention_mask (batch, padded_length)."""
        self.samples += int(attention_mask.shape[0])
        self.real_tokens += int(attention_mask.sum())
        self.padded_tokens += int(attention_mask.numel())

    def summary(self, wall: float) -> dict:
        """Throughput over the fit's wall time less validation; `other` = wall less every phase."""
        training = wall - self.seconds["validation"]
        return {"samples": self.samples, "real_tokens": self.real_tokens, "padded_tokens": self.padded_tokens,
                "fit_seconds": wall, "train_seconds": training, "samples_per_s": self.samples / training,
                "real_tokens_per_s": self.real_tokens / training, "samples_per_s_incl_validation": self.samples / wall,
                "phases": {**self.seconds, "other": wall - sum(self.seconds.values())},
                "val_mean_auroc_per_epoch": [_finite(v) for v in self.val_mean_auroc],
                "val_mean_auroc": _finite(self.val_mean_auroc[-1]) if self.val_mean_auroc else None}


def _finite(value: float) -> float | None:
    """None for NaN (AUROC of a val sample without any positive tag)."""
    return value if np.isfinite(value) else None


def bench_params(cfg: dict, precision: str):
    """The typed params a training side uses: params.yaml with the bench's overrides
    (cfg["params_file"]), at `precision`."""
    import dataclasses

    from toxic_tagger.config import load_params

    params = load_params(cfg["params_file"])
    return dataclasses.replace(params, train=dataclasses.replace(params.train, precision=precision))
