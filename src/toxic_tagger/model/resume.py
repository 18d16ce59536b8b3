"""Resume the train stage after a crash, and only when the checkpoint is this run's.

`checkpoints/` is a persisted DVC output (dvc.yaml: `persist: true`), so DVC keeps it through
reruns. Beside `last.ckpt` the stage keeps `run.json`: a fingerprint of what the fit depends on
(the seed, model and train params, the rows of the train and val splits) and whether the fit
finished. On start, `resume_point(...)` returns `last.ckpt` when the fingerprint matches and the
fit did not finish, and otherwise clears the folder and returns None (a fresh start); each case
prints one line saying which and why. Lightning restores weights, optimizer, scheduler, loop
position and callback states from the checkpoint; `RandomState` adds the random generators'
states, so dropout after a resume draws what an uninterrupted run would have drawn.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from dataclasses import asdict
from pathlib import Path

import lightning as L
import numpy as np
import pandas as pd
import torch

from toxic_tagger.atomic_files import write_json
from toxic_tagger.config import Params

RUN_FILE = "run.json"
LAST = "last.ckpt"


def fingerprint(params: Params, train: pd.DataFrame, val: pd.DataFrame) -> str:
    """sha256 over the params the fit reads and the rows of its two input splits."""
    rows = [hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()).hexdigest()
            for frame in (train, val)]
    state = {"seed": params.seed, "model": asdict(params.model), "train": asdict(params.train), "rows": rows}
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=list).encode()).hexdigest()


def resume_point(folder: Path, run: str, print_line=print) -> Path | None:
    """`folder/last.ckpt` if it belongs to the unfinished fit with fingerprint `run`; otherwise
    None, after the launching process cleared `folder` (a stale or finished run's checkpoints)
    and recorded `run` as started. Processes that Lightning's `ddp` launches for the other ranks
    only read: they start while the launching process is already inside `fit`."""
    recorded = _read(folder / RUN_FILE)
    last = folder / LAST
    same = recorded.get("fingerprint") == run
    step = _step(last) if same and not recorded.get("finished") else None
    if step is not None:
        print_line(f"train: resuming from {last} at step {step} (same params and data, fit unfinished)")
        return last
    if not launching_process():
        return None
    reason = ("no checkpoint" if not last.is_file() else "the last run finished" if same and recorded.get("finished")
              else f"{last} is unreadable" if same else f"no {RUN_FILE} beside the checkpoint" if not recorded
              else "the checkpoint is from other params or data")
    print_line(f"train: starting fresh ({reason})")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    write_json(folder / RUN_FILE, {"fingerprint": run, "finished": False})
    return None


def launching_process() -> bool:
    """False in the processes a launcher started for ranks other than 0 (Lightning's ddp sets
    LOCAL_RANK in the ones it starts; torchrun and SLURM set RANK in every process)."""
    if "LOCAL_RANK" in os.environ and "RANK" not in os.environ:
        return os.environ["LOCAL_RANK"] == "0" and os.environ.get("NODE_RANK", "0") == "0"
    return os.environ.get("RANK", "0") == "0"


def mark_finished(folder: Path, run: str) -> None:
    """Record that the fit with fingerprint `run` ended, so a forced rerun starts fresh."""
    write_json(folder / RUN_FILE, {"fingerprint": run, "finished": True})


def _step(last: Path) -> int | None:
    """The optimizer step `last` was saved at; None when it is missing or unreadable (a crash
    while it was being written)."""
    try:
        return int(torch.load(last, map_location="cpu", weights_only=True).get("global_step", 0))
    except Exception:  # noqa: BLE001 - a damaged file fails in torch's reader with any of a dozen types
        return None


def epochs_completed(last: Path) -> int:
    """Epochs the fit behind `last` ran, read from its final checkpoint (written at the last
    epoch's validation end): the trainer's own counter stays at 0 in the parent process under
    strategy ddp_spawn."""
    return int(torch.load(last, map_location="cpu", weights_only=True)["epoch"]) + 1


def _read(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


class RandomState(L.Callback):
    """Keeps Python's, NumPy's and torch's generator states in every checkpoint and restores them
    on resume (Lightning restores the model, optimizer and loops, not these). Stored as ints,
    lists and tensors only, so checkpoints load with `weights_only=True` (no arbitrary pickle)."""

    def state_dict(self) -> dict:
        kind, keys, position, has_gauss, gauss = np.random.get_state()
        return {"python": random.getstate(), "numpy": [kind, keys.tolist(), position, has_gauss, gauss],
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}

    def load_state_dict(self, state: dict) -> None:
        version, internal, gauss = state["python"]
        random.setstate((version, tuple(internal), gauss))
        kind, keys, position, has_gauss, cached = state["numpy"]
        np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), position, has_gauss, cached))
        torch.set_rng_state(state["torch"])
        if state["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])
