"""Blend the fine-tuned transformer with the TF-IDF baseline, one weight per tag.

p[:, t] = (1 - w[t]) * p_transformer[:, t] + w[t] * p_baseline[:, t] (`train.blend_space:
probability`), or the same average of the two log-odds, p = sigmoid((1 - w) * logit(p_transformer)
+ w * logit(p_baseline)) (`logit`: a confident part is not flattened towards 0.5). With
`train.baseline_weight: null` each tag's weight is chosen on val (best AUROC of that tag over
a grid), never on test; a number fixes the same weight for every tag. Per tag, because the two
parts can be strong on different tags (docs/experiments.md has the weights val chose). Thresholds
are then tuned on the blended, calibrated val probabilities. Both parts stay loadable on their
own: the transformer with plain transformers, the baseline from JSON + safetensors.

`blend_exported` is the last step of every runtime: the blend, then the export's per-tag
calibration (evaluate/calibration.py: final score = calibrator(blend(transformer, baseline))).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np
from scipy.special import expit, logit

from toxic_tagger import LABELS
from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.evaluate.metrics import per_tag_auroc

GRID = np.round(np.linspace(0.0, 1.0, 21), 2)  # weights 0.00, 0.05, ..., 1.00
# logit space: probabilities are clipped to [EPS, 1 - EPS] first, so a part that says exactly
# 0 or 1 (float32 sigmoid saturates) cannot decide a tag alone with an infinite log-odds.
EPS = 1e-7
FORMULAS = {
    "probability": "p[tag] = (1 - baseline_weight[tag]) * p_transformer[tag] + baseline_weight[tag] * p_baseline[tag]",
    "logit": ("p[tag] = sigmoid((1 - baseline_weight[tag]) * logit(p_transformer[tag]) + baseline_weight[tag] * "
              f"logit(p_baseline[tag])), each p clipped to [{EPS:g}, 1 - {EPS:g}] first"),
}
Space = Literal["probability", "logit"]
SPACES: tuple[str, ...] = get_args(Space)


def blend(transformer: np.ndarray, baseline: np.ndarray | None, weight: float | np.ndarray,
          space: Space = "probability") -> np.ndarray:
    """Blended probabilities (n, 6) float32; `weight` is one number or one per tag (6,), `space`
    where the two are averaged (see the module docstring). The transformer alone when there is
    no baseline or every weight is 0."""
    weights = np.asarray(weight, dtype=np.float64)
    if baseline is None or not np.any(weights):
        return transformer
    if space == "probability":
        return ((1.0 - weights) * transformer + weights * baseline).astype(np.float32)
    if space == "logit":
        return expit((1.0 - weights) * _logit(transformer) + weights * _logit(baseline)).astype(np.float32)
    raise ToxicTaggerError(f"blend space must be one of {', '.join(SPACES)}, got {space!r}")


def _logit(probs: np.ndarray) -> np.ndarray:
    return logit(np.clip(np.asarray(probs, dtype=np.float64), EPS, 1.0 - EPS))


def tune_weights(labels: np.ndarray, transformer: np.ndarray, baseline: np.ndarray,
                 space: Space = "probability") -> tuple[np.ndarray, dict[str, float]]:
    """Per tag, the grid weight with the best val AUROC of that tag (ties go to the smaller
    weight, i.e. towards the transformer; a tag without both classes gets 0).

    Returns the weights (6,) and the val mean AUROC at each shared grid weight, for
    metrics/train.json (a curve of how much the blend helps overall)."""
    per_weight = np.stack([per_tag_auroc(labels, blend(transformer, baseline, w, space)) for w in GRID])  # (grid, 6)
    weights = np.zeros(labels.shape[1])
    for tag in range(labels.shape[1]):
        column = per_weight[:, tag]
        if not np.all(np.isnan(column)):
            weights[tag] = GRID[int(np.flatnonzero(column >= np.nanmax(column) - 1e-12)[0])]
    scores = {f"{w:.2f}": float(np.nanmean(row)) for w, row in zip(GRID, per_weight)}
    return weights, scores


def weights_by_tag(weights: np.ndarray) -> dict[str, float]:
    """{tag: weight} for JSON (the exported model and metrics/train.json)."""
    return {label: float(w) for label, w in zip(LABELS, np.broadcast_to(weights, (len(LABELS),)))}


def blend_exported(exported, texts: Sequence[str], transformer: np.ndarray, calibrated: bool = True) -> np.ndarray:
    """An exported model's final scores (n, 6) from its transformer probabilities for `texts`:
    blended with its baseline per tag (unchanged when it has none), then mapped through its
    calibration. `calibrated=False`: the blend alone, the score the calibration was fitted on
    (the evaluate stage reports both). Every runtime ends here."""
    from toxic_tagger.model.baseline import predict_baseline

    final = transformer
    if exported.baseline is not None:
        final = blend(transformer, predict_baseline(exported.baseline, list(texts)), exported.baseline_weight,
                      exported.blend_space)
    final = check_probabilities(final)
    return calibrate(exported.calibration, final) if calibrated else final


def calibrate(calibration, probs: np.ndarray) -> np.ndarray:
    """`probs` (n, 6) mapped through `calibration` (evaluate.calibration.Calibration), checked.
    float64: each tag's map is strictly increasing, and rounding its output to float32 would tie
    nearby scores and could lower AUROC. `probs` itself when there is no calibration or every
    tag's map is the identity, so an uncalibrated export scores exactly as before."""
    if calibration is None or calibration.is_identity:
        return probs
    return check_probabilities(calibration.apply(probs))


def check_probabilities(probs: np.ndarray) -> np.ndarray:
    """`probs` unchanged when every score is a probability; a NaN or a value outside [0, 1] can only
    come from a damaged export or runtime (never from a user's text), so it stops prediction."""
    if not np.all((probs >= 0.0) & (probs <= 1.0)):
        raise ToxicTaggerError("prediction produced scores outside [0, 1] (or NaN); the exported model is damaged")
    return probs
