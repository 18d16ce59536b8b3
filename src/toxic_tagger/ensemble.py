"""Blend the fine-tuned transformer with the TF-IDF baseline.

p = (1 - w) * p_transformer + w * p_baseline, per tag, with one weight `w` for all tags. The
weight is chosen on val (maximum mean AUROC over a grid), never on test; thresholds are then
tuned on the blended val probabilities. Both parts stay loadable on their own: the
transformer with plain transformers, the baseline from JSON + safetensors.
"""

from __future__ import annotations

import numpy as np

from toxic_tagger.metrics import per_tag_auroc

GRID = np.round(np.linspace(0.0, 1.0, 21), 2)  # weights 0.00, 0.05, ..., 1.00


def blend(transformer: np.ndarray, baseline: np.ndarray | None, weight: float) -> np.ndarray:
    """Blended probabilities (n, 6); the transformer alone when there is no baseline or w = 0."""
    if baseline is None or weight == 0:
        return transformer
    return ((1.0 - weight) * transformer + weight * baseline).astype(np.float32)


def tune_weight(labels: np.ndarray, transformer: np.ndarray, baseline: np.ndarray) -> tuple[float, dict[str, float]]:
    """Grid weight with the best mean AUROC on (labels, probs); ties go to the smaller weight.

    Returns the weight and the val mean AUROC at every grid point (for metrics/train.json)."""
    scores = {f"{w:.2f}": float(np.nanmean(per_tag_auroc(labels, blend(transformer, baseline, w)))) for w in GRID}
    best = max(scores.values())
    weight = next(float(w) for w in GRID if scores[f"{w:.2f}"] >= best - 1e-12)
    return weight, scores
