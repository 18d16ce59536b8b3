"""The exported model directory: what `train` writes and `evaluate` / users load.

Layout (all safetensors + JSON, no pickle):
    config.json, model.safetensors       transformers' AutoModelForSequenceClassification
    tokenizer.json, tokenizer_config.json, ...   AutoTokenizer
    toxic_tagger.json                    labels, tuned thresholds, max_length, blend, provenance
    baseline/                            the TF-IDF baseline blended in (JSON + safetensors), if any
The directory opens with plain transformers (`pipeline("text-classification", model=dir,
top_k=None)` applies a sigmoid because config.problem_type is multi_label_classification).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toxic_tagger import LABELS
from toxic_tagger.baseline import BaselineModel, load_baseline
from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.io import atomic_dir

META_FILE = "toxic_tagger.json"
BASELINE_DIR = "baseline"


@dataclass(frozen=True)
class Exported:
    model: object  # transformers PreTrainedModel (eval mode)
    tokenizer: object
    thresholds: np.ndarray  # (6,) applied to the blended probabilities
    max_length: int
    meta: dict
    baseline: BaselineModel | None  # blended in with weight `baseline_weight`, if any
    baseline_weight: float


def export_model(model, tokenizer, target: Path, thresholds: np.ndarray, max_length: int, extra: dict,
                 baseline_dir: Path | None = None, baseline_weight: float = 0.0) -> None:
    """Write the exported directory atomically (a failed export leaves the old one intact)."""
    blended = baseline_dir is not None and baseline_weight > 0
    meta = {"labels": list(LABELS), "thresholds": {label: float(t) for label, t in zip(LABELS, thresholds)},
            "max_length": int(max_length),
            "blend": {"baseline_weight": float(baseline_weight) if blended else 0.0,
                      "baseline": BASELINE_DIR if blended else None,
                      "formula": "p = (1 - baseline_weight) * p_transformer + baseline_weight * p_baseline"},
            **extra}
    # Plain `pipeline(..., truncation=True)` then truncates exactly where training did.
    tokenizer.model_max_length = int(max_length)
    with atomic_dir(target) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        if blended:
            shutil.copytree(baseline_dir, tmp / BASELINE_DIR)
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def load_exported(directory: str | Path) -> Exported:
    """Load an exported directory (safetensors only) for prediction."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    directory = Path(directory)
    meta_path = directory / META_FILE
    if not meta_path.is_file():
        raise ToxicTaggerError(f"{directory}: not an exported toxic-tagger model (no {META_FILE}); run `dvc repro train`")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    model = AutoModelForSequenceClassification.from_pretrained(directory, use_safetensors=True)
    tokenizer = AutoTokenizer.from_pretrained(directory)
    thresholds = np.array([meta["thresholds"][label] for label in LABELS], dtype=np.float64)
    weight = float(meta.get("blend", {}).get("baseline_weight", 0.0))
    baseline = load_baseline(directory / BASELINE_DIR) if weight > 0 else None
    return Exported(model.eval(), tokenizer, thresholds, int(meta["max_length"]), meta, baseline, weight)
