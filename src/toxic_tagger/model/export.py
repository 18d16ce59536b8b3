"""The exported model directory: what `train` writes and `evaluate` / users load.

Layout (all safetensors + JSON, no pickle):
    config.json, model.safetensors       transformers' AutoModelForSequenceClassification
    tokenizer.json, tokenizer_config.json, ...   AutoTokenizer
    toxic_tagger.json                    labels, tuned thresholds, max_length and truncation, blend,
                                         per-tag calibration (plain JSON), provenance, and the
                                         sha256 of every file prediction reads (checked on load)
    baseline/                            the TF-IDF baseline blended in (JSON + safetensors), if any
    README.md                            the model card with Hugging Face metadata
The directory opens with plain transformers (`pipeline("text-classification", model=dir,
top_k=None)` applies a sigmoid because config.problem_type is multi_label_classification): it
gives the transformer's part, read head-first, before the blend and the calibration.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toxic_tagger import LABELS
from toxic_tagger.atomic_files import atomic_dir
from toxic_tagger.checksums import file_sha256
from toxic_tagger.data.tokens import HEAD, Truncation
from toxic_tagger.evaluate.calibration import Calibration
from toxic_tagger.evaluate.hub_card import hub_card
from toxic_tagger.errors import ToxicTaggerError, first_line
from toxic_tagger.model.baseline import BaselineModel, load_baseline
from toxic_tagger.model.blend import FORMULAS, SPACES, Space, weights_by_tag

META_FILE = "toxic_tagger.json"
INTEGRITY = "integrity"  # toxic_tagger.json's {"sha256": {file: hex}} of what prediction reads
CARD_FILE = "README.md"  # the Hugging Face model card, with its YAML metadata
# What load_exported needs besides META_FILE (save_pretrained's names; safetensors only).
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json")
BASELINE_DIR = "baseline"


@dataclass(frozen=True)
class Exported:
    model: object  # transformers PreTrainedModel (eval mode)
    tokenizer: object
    thresholds: np.ndarray  # (6,) applied to the blended probabilities
    max_length: int
    meta: dict
    baseline: BaselineModel | None  # blended in with `baseline_weight` per tag, if any
    baseline_weight: np.ndarray  # (6,) weight of the baseline per tag (zeros: transformer only)
    blend_space: Space = "probability"  # where the two parts are averaged (blend.py)
    truncation: Truncation = HEAD  # which tokens of a long comment the transformer reads
    calibration: Calibration | None = None  # per-tag map of the blended score; None: identity


def export_model(model, tokenizer, target: Path, thresholds: np.ndarray, max_length: int, extra: dict,
                 baseline_dir: Path | None = None, baseline_weights: np.ndarray | float = 0.0,
                 blend_space: Space = "probability", val_scores: dict | None = None,
                 truncation: Truncation = HEAD, calibration: Calibration | None = None) -> None:
    """Write the exported directory atomically (a failed export leaves the old one intact).
    `baseline_weights`: the baseline's blend weight, one number or one per tag; `blend_space`:
    averaged probabilities or log-odds (blend.py); `val_scores`: the exported scores' val AUROC
    and F1 per tag for the model card (README.md, evaluate/hub_card.py) written alongside;
    `truncation`: how training cut long comments (prediction cuts them the same way);
    `calibration`: the per-tag map applied after the blend (None: identity)."""
    weights = weights_by_tag(np.asarray(baseline_weights, dtype=np.float64))
    blended = baseline_dir is not None and any(weights.values())
    meta = {"labels": list(LABELS), "thresholds": {label: float(t) for label, t in zip(LABELS, thresholds)},
            "max_length": int(max_length), "truncation": truncation.strategy, "head_tokens": truncation.head_tokens,
            "blend": {"baseline_weight": weights if blended else dict.fromkeys(LABELS, 0.0),
                      "baseline": BASELINE_DIR if blended else None,
                      "space": blend_space, "formula": FORMULAS[blend_space]},
            "calibration": (calibration or Calibration.identity()).to_json(),
            **extra}
    # Plain `pipeline(..., truncation=True)` then truncates where training did (head truncation;
    # under head_tail it reads the first max_length tokens, the model card says so).
    tokenizer.model_max_length = int(max_length)
    with atomic_dir(target) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        if blended:
            shutil.copytree(baseline_dir, tmp / BASELINE_DIR)
        meta[INTEGRITY] = {"sha256": file_digests(tmp)}
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        card = hub_card(meta, np.array([meta["blend"]["baseline_weight"][label] for label in LABELS]), val_scores)
        (tmp / CARD_FILE).write_text(card, encoding="utf-8")


def load_exported(directory: str | Path) -> Exported:
    """Load an exported directory (safetensors only) for prediction."""
    from safetensors import SafetensorError
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    directory = Path(directory)
    meta_path = directory / META_FILE
    if not os.path.isfile(meta_path):  # False for a name too long, where Path.is_file raises
        raise ToxicTaggerError(f"{directory}: not an exported toxic-tagger model (no {META_FILE}); run `dvc repro train`")
    meta = read_meta(meta_path)
    check_files(directory)
    check_integrity(directory, meta)
    try:
        model = AutoModelForSequenceClassification.from_pretrained(directory, use_safetensors=True)
        tokenizer = AutoTokenizer.from_pretrained(directory)
    except (OSError, ValueError, SafetensorError) as exc:  # unreadable config, truncated weights, ...
        raise ToxicTaggerError(f"{directory}: cannot load the exported model: {first_line(exc)}") from exc
    check_vocabulary(directory, model, tokenizer)
    thresholds = np.array([meta["thresholds"][label] for label in LABELS], dtype=np.float64)
    weights = blend_weights(meta)
    baseline = load_baseline(directory / BASELINE_DIR) if weights.any() else None
    return Exported(model.eval(), tokenizer, thresholds, int(meta["max_length"]), meta, baseline, weights,
                    blend_space(meta, meta_path), read_truncation(meta, meta_path), read_calibration(meta, meta_path))


def read_meta(meta_path: Path) -> dict:
    """toxic_tagger.json, checked for what prediction reads: a threshold per tag and max_length."""
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ToxicTaggerError(f"{meta_path}: cannot read: {exc}") from exc
    thresholds = meta.get("thresholds") if isinstance(meta, dict) else None
    missing = [label for label in LABELS if not isinstance(thresholds, dict) or label not in thresholds]
    if missing:
        raise ToxicTaggerError(f"{meta_path}: no threshold for {', '.join(missing)} under 'thresholds'")
    for label in LABELS:
        check_fraction(thresholds[label], f"{meta_path}: thresholds.{label}")
    if not isinstance(meta.get("max_length"), int) or isinstance(meta["max_length"], bool) or meta["max_length"] < 1:
        raise ToxicTaggerError(f"{meta_path}: 'max_length' must be an integer >= 1")
    weights = (meta.get("blend") or {}).get("baseline_weight") or 0.0
    for label, value in (weights.items() if isinstance(weights, dict) else [("all tags", weights)]):
        check_fraction(value, f"{meta_path}: blend.baseline_weight ({label})")
    return meta


def check_fraction(value, what: str) -> None:
    """A threshold or a blend weight: a finite number in [0, 1] (NaN compares false everywhere,
    so a NaN threshold would silently tag nothing)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ToxicTaggerError(f"{what} must be a number in [0, 1], got {value!r}")


def file_digests(directory: Path) -> dict[str, str]:
    """sha256 of every file under `directory` that prediction reads: {relative path: hex}
    (the metadata file and the model card are not: they are text a person may edit)."""
    return {path.relative_to(directory).as_posix(): file_sha256(path)
            for path in sorted(directory.rglob("*")) if path.is_file() and path.name not in (META_FILE, CARD_FILE)}


def check_integrity(directory: Path, meta: dict) -> None:
    """Each file toxic_tagger.json records has the recorded sha256: weights damaged or replaced
    in place stop here instead of scoring quietly wrong. Exports written before the record
    existed load with a warning."""
    recorded = (meta.get(INTEGRITY) or {}).get("sha256")
    if not isinstance(recorded, dict) or not recorded:
        warnings.warn(f"{directory}: no sha256 record in {META_FILE} (an older export); its files are not checked",
                      stacklevel=3)
        return
    for name, digest in recorded.items():
        path = directory / name
        if not path.is_file():
            raise ToxicTaggerError(f"{path}: missing, but recorded in {META_FILE}; copy the whole folder again")
        if file_sha256(path) != digest:
            raise ToxicTaggerError(f"{path}: sha256 differs from the one recorded in {META_FILE}: the file was "
                                   "changed or damaged after export; export again or copy the folder again")


def check_files(directory: Path) -> None:
    """Stop on a missing part: without tokenizer.json, transformers quietly builds a tokenizer
    that maps every word to [UNK] and prediction runs on with wrong scores."""
    missing = [name for name in REQUIRED_FILES if not (directory / name).is_file()]
    if missing:
        raise ToxicTaggerError(f"{directory}: exported model incomplete, missing {', '.join(missing)}; "
                               "run `dvc repro train` or copy the whole folder")


def check_vocabulary(directory: Path, model, tokenizer) -> None:
    """The tokenizer must produce ids the model has embeddings for (a replaced tokenizer.json)."""
    size, expected = len(tokenizer), int(getattr(model.config, "vocab_size", 0) or 0)
    if expected and size > expected:
        raise ToxicTaggerError(f"{directory}: tokenizer has {size:,} tokens, the model's vocabulary {expected:,}")
    if expected and size < expected // 2:  # the [UNK]-only fallback, or another model's tokenizer
        raise ToxicTaggerError(f"{directory}: tokenizer has {size:,} tokens, far fewer than the model's "
                               f"{expected:,}: tokenizer.json is not this model's")


def read_truncation(meta: dict, meta_path: Path) -> Truncation:
    """toxic_tagger.json's truncation and head_tokens; exports written before them read the head."""
    truncation = Truncation(meta.get("truncation", "head"), meta.get("head_tokens", 0))
    problem = truncation.problem(meta["max_length"])
    if problem:
        raise ToxicTaggerError(f"{meta_path}: {problem}")
    return truncation


def read_calibration(meta: dict, meta_path: Path) -> Calibration:
    """toxic_tagger.json's per-tag calibration, validated; exports written before it: identity."""
    if "calibration" not in meta:
        return Calibration.identity()
    try:
        return Calibration.from_json(meta["calibration"])
    except ToxicTaggerError as exc:
        raise ToxicTaggerError(f"{meta_path}: {first_line(exc)}") from None


def blend_space(meta: dict, meta_path: Path) -> Space:
    """toxic_tagger.json's blend space; exports written before it existed averaged probabilities."""
    space = (meta.get("blend") or {}).get("space", "probability")
    if space not in SPACES:
        raise ToxicTaggerError(f"{meta_path}: blend.space must be one of {', '.join(SPACES)}, got {space!r}")
    return space


def blend_weights(meta: dict) -> np.ndarray:
    """(6,) baseline weights from toxic_tagger.json's blend: {tag: weight}, or one number for
    all tags; zeros when there is no blend."""
    value = (meta.get("blend") or {}).get("baseline_weight") or 0.0
    if isinstance(value, dict):
        return np.array([float(value.get(label, 0.0)) for label in LABELS])
    return np.full(len(LABELS), float(value))
