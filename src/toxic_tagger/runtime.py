"""Process-wide run settings: thread count, seeding, logging and the stage entry point."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

from toxic_tagger.config import Params, load_params
from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.paths import repo_root


def available_cores() -> int:
    """Cores this process may run on (respects CPU affinity / container limits)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def configure_threads(requested: int) -> int:
    """Set torch's intra-op threads to `requested` (0 = all available cores); return the count."""
    import torch

    cores = available_cores()
    if requested > cores:  # allowed (the user asked), but slower: threads then wait on each other
        warnings.warn(f"threads: {requested} torch threads on {cores} available cores oversubscribes them "
                      "(0 = one per core)", stacklevel=2)
    threads = requested if requested > 0 else cores
    torch.set_num_threads(threads)
    return threads


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (one seed from params.yaml, applied once per stage)."""
    import lightning as L

    L.seed_everything(seed, workers=True, verbose=False)


def quiet_libraries() -> None:
    """Silence library chatter that says nothing actionable about this pipeline."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*Checkpoint directory .* exists and is not empty.*")
    # Lightning's own use of a torch API torch deprecated; nothing for a user to change
    warnings.filterwarnings("ignore", message=".*isinstance\\(treespec, LeafSpec\\)` is deprecated.*")
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.seed"):
        logging.getLogger(name).setLevel(logging.WARNING)


def stage_paths(description: str | None, *names: str) -> argparse.Namespace:
    """Parse a stage script's command line: each name is a required `--name PATH` option
    (dvc.yaml passes every path; `--raw-meta` arrives as `args.raw_meta`)."""
    parser = argparse.ArgumentParser(description=description)
    for name in names:
        parser.add_argument(f"--{name}", type=Path, required=True)
    return parser.parse_args()


def run_stage(stage: Callable[[Params, Path], None]) -> None:
    """Entry point of every stage script: load params, run, turn user errors into one line."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    quiet_libraries()
    try:
        root = repo_root()
        params = load_params(root / "params.yaml")
        stage(params, root)
    except ToxicTaggerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
