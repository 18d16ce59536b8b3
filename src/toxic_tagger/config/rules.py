"""Every rule a params.yaml value must keep, in one place.

- `range_problem(key, value)`: the allowed values of one key (numbers, lengths, choices);
- `cross_field_problems(params)`: rules between keys (split fractions, batch budget vs length);
- `environment_problems(params, root, model_positions)`: rules that need the world outside the
  file (the data source exists and has the stated sha256, the model resolves and has enough
  positions for model.max_length).

Each returns the message of a broken rule (with the key first) or nothing. loading.py applies
the first two on every load; `check_params` (the `check_params` DVC stage at the head of the
pipeline and `toxic-tagger check-params`) applies all three, before DVC deletes any output.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from toxic_tagger.checksums import file_sha256
from toxic_tagger.config.schema import MONITORS, Params
from toxic_tagger.paths import resolve_user_path

SAMPLE_SOURCE = "sample"
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps", "tpu", "hpu")  # Lightning's accelerator names
GPU_ACCELERATORS = ("gpu", "cuda")
SEED_LIMIT = 2**32  # NumPy's and Lightning's seeding take an unsigned 32-bit seed


def _ngrams(value: tuple[int, ...]) -> bool:
    return len(value) == 2 and 1 <= value[0] <= value[1]


# key -> (allowed?, what is allowed). Floats are finite before they get here (loading.py).
RANGES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "seed": (lambda v: 0 <= v < SEED_LIMIT, f"in [0, {SEED_LIMIT})"),
    "threads": (lambda v: v >= 0, ">= 0 (0 = every core)"),
    "fetch.source": (lambda v: v.strip() != "", "a file, an http(s) URL or `sample`"),
    "fetch.sha256": (lambda v: v is None or re.fullmatch(r"[0-9a-fA-F]{64}", v) is not None,
                     "64 hexadecimal digits, or null"),
    "fetch.sample_rows": (lambda v: v >= 100, ">= 100"),
    "balance_split.val_fraction": (lambda v: 0 < v < 1, "in (0, 1)"),
    "balance_split.test_fraction": (lambda v: 0 < v < 1, "in (0, 1)"),
    "balance_split.clean_rows": (lambda v: v is None or v >= 0, ">= 0, or null for all"),
    "token_stats.max_lengths": (lambda v: len(v) >= 1 and min(v) >= 1, "a non-empty list of lengths >= 1"),
    "model.name": (lambda v: v.strip() != "", "a packaged model id, a local directory or a hub id"),
    "model.max_length": (lambda v: v >= 8, ">= 8 tokens"),
    "model.hidden_dropout": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "model.attention_dropout": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "model.head_tokens": (lambda v: v >= 0, ">= 0 (0 = keep only the last tokens under truncation head_tail)"),
    "train.epochs": (lambda v: v >= 1, ">= 1"),
    "train.lr": (lambda v: v >= 0, ">= 0 (0 = only the head learns)"),
    "train.head_lr": (lambda v: v > 0, "> 0"),
    "train.pos_weight_power": (lambda v: v >= 0, ">= 0 (0 = off)"),
    "train.weight_decay": (lambda v: v >= 0, ">= 0"),
    "train.warmup_fraction": (lambda v: 0 <= v <= 1, "in [0, 1]"),
    "train.max_tokens_per_batch": (lambda v: v >= 1, ">= 1"),
    "train.max_batch_size": (lambda v: v >= 1, ">= 1"),
    "train.monitor": (lambda v: v in MONITORS, f"one of {', '.join(MONITORS)}"),
    "train.patience": (lambda v: v >= 0, ">= 0"),
    "train.layer_lr_decay": (lambda v: 0 < v <= 1, "in (0, 1]"),
    "train.accelerator": (lambda v: v in ACCELERATORS, f"one of {', '.join(ACCELERATORS)}"),
    "train.devices": (lambda v: v >= 1, ">= 1"),
    "train.num_nodes": (lambda v: v >= 1, ">= 1"),
    "train.checkpoint_every_n_steps": (lambda v: v >= 0, ">= 0 (0 = at epoch ends only)"),
    "train.progress_every_n_steps": (lambda v: v >= 1, ">= 1"),
    "train.baseline_weight": (lambda v: v is None or 0 <= v <= 1, "in [0, 1], or null (tuned per tag on val)"),
    "baseline.word_ngrams": (_ngrams, "[min, max] with 1 <= min <= max"),
    "baseline.char_ngrams": (_ngrams, "[min, max] with 1 <= min <= max"),
    "baseline.word_max_features": (lambda v: v >= 1, ">= 1"),
    "baseline.char_max_features": (lambda v: v >= 1, ">= 1"),
    "baseline.C": (lambda v: v > 0, "> 0"),
    "baseline.class_weight": (lambda v: v in (None, "balanced"), "`balanced` or null"),
    "evaluate.max_tokens_per_batch": (lambda v: v >= 1, ">= 1"),
    # fewer resamples cannot place the ends of a 95% interval (1 gave zero-width intervals)
    "evaluate.bootstrap_samples": (lambda v: v >= 20, ">= 20"),
}


def range_problem(key: str, value: Any) -> str | None:
    """What is wrong with `value` for dotted `key`, or None."""
    if key in RANGES and not RANGES[key][0](value):
        shown = list(value) if isinstance(value, tuple) else value
        return f"{key} must be {RANGES[key][1]}, got {shown!r}"
    return None


def cross_field_problems(params: Params) -> list[tuple[str, str]]:
    """(key, message) for each rule between keys that `params` breaks."""
    problems = []
    split = params.balance_split
    if split.val_fraction + split.test_fraction >= 1:
        problems.append(("balance_split.test_fraction",
                         "balance_split.val_fraction + test_fraction must be below 1 (train needs rows), "
                         f"got {split.val_fraction} + {split.test_fraction}"))
    if params.train.max_tokens_per_batch < params.model.max_length:
        # below it, every comment of max_length tokens would be a batch over budget
        problems.append(("train.max_tokens_per_batch",
                         f"train.max_tokens_per_batch {params.train.max_tokens_per_batch} must be at least "
                         f"model.max_length {params.model.max_length}"))
    problems += _truncation_problems(params.model)
    problems += _device_problems(params.train)
    return problems


def _truncation_problems(model) -> list[tuple[str, str]]:
    """head_tail keeps [CLS], the first head_tokens, the last max_length - 2 - head_tokens and
    [SEP]: the tail needs at least one token (head_tokens above it would be plain head)."""
    if model.truncation == "head_tail" and model.head_tokens >= model.max_length - 2:
        return [("model.head_tokens", f"model.head_tokens {model.head_tokens} must be below model.max_length - 2 = "
                                      f"{model.max_length - 2} under truncation head_tail (the tail keeps the rest)")]
    return []


def _device_problems(train) -> list[tuple[str, str]]:
    """Combinations Lightning would refuse, or that cannot work, named before training."""
    problems = []
    if train.precision == "16-mixed" and train.accelerator == "cpu":
        problems.append(("train.precision", "train.precision 16-mixed needs a GPU (train.accelerator is cpu); "
                                            "on CPUs use bf16"))
    if train.precision == "bf16" and train.accelerator in GPU_ACCELERATORS:
        problems.append(("train.precision", "train.precision bf16 is the CPU recipe (fp32 attention); "
                                            "on GPUs use bf16-mixed"))
    if train.strategy == "ddp_spawn" and train.num_nodes > 1:
        problems.append(("train.strategy", "train.strategy ddp_spawn runs on one node; use ddp with train.num_nodes > 1"))
    if train.refit_on_val and train.devices * train.num_nodes > 1:
        problems.append(("train.refit_on_val", "train.refit_on_val runs in one process; set train.devices and "
                                               "train.num_nodes to 1 (or refit_on_val to false)"))
    return problems


def accelerator_problem(params: Params, gpus: int) -> str | None:
    """train.accelerator / devices / precision against the `gpus` this machine has."""
    train = params.train
    wants_gpu = train.accelerator in GPU_ACCELERATORS or train.precision == "16-mixed"
    if wants_gpu and gpus == 0:
        return (f"train.accelerator {train.accelerator} with precision {train.precision} needs a CUDA GPU, "
                "and torch sees none here")
    if train.accelerator in GPU_ACCELERATORS and train.devices > gpus:
        return f"train.devices {train.devices} is more than the {gpus} GPUs torch sees here"
    return None


def environment_problems(params: Params, root: Path,
                         model_positions: Callable[[str, Path], int | None]) -> list[tuple[str, str]]:
    """(key, message) for each rule that needs files or the model: the source file exists (and
    matches fetch.sha256 when given); model.max_length fits the model's position table.
    `model_positions(name, root)` raises ToxicTaggerError when the model cannot be found."""
    problems = []
    source = params.fetch.source
    if source != SAMPLE_SOURCE and not source.startswith(("http://", "https://")):
        local = resolve_user_path(source, root)
        if not os.path.isfile(local):  # False for a name too long, where Path.is_file raises
            problems.append(("fetch.source", f"fetch.source: no such file {str(local)!r} (from {source!r})"))
        elif params.fetch.sha256 and (digest := file_sha256(local)) != params.fetch.sha256.lower():
            problems.append(("fetch.sha256", f"fetch.sha256 does not match {source!r} (its sha256 is {digest})"))
    problem = positions_problem(params, model_positions(params.model.name, root))
    problems += [("model.max_length", problem)] if problem else []
    problem = accelerator_problem(params, cuda_devices())
    return problems + ([("train.accelerator", problem)] if problem else [])


def cuda_devices() -> int:
    """CUDA GPUs torch sees (0 without torch's CUDA build)."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def positions_problem(params: Params, positions: int | None) -> str | None:
    """model.max_length against the model's position table (`positions`; None: no limit known)."""
    if positions and params.model.max_length > positions:
        return f"model.max_length {params.model.max_length} is above the {positions} positions of {params.model.name}"
    return None
