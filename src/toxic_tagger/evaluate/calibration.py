"""Calibrated probabilities: Brier score, ECE and reliability bins, and per-tag calibrators.

Inputs: `labels` (n, k) 0/1 and `probs` (n, k) in [0, 1], columns in LABELS order (k = 6 for
`choose_calibrator` and `Calibration`). Outputs: per-tag arrays (k,), reliability bins ready
for a plot CSV, and a `Calibration` (one fitted map per tag) that is applied to new
probabilities and stored as plain JSON (`to_json` / `from_json`), never as a pickle.

Per tag, `choose_calibrator` cross-fits Platt scaling, temperature scaling and isotonic
regression on the validation split and keeps the kind with the lowest out-of-fold Brier score;
the per-tag maps and their JSON schema live in calibrators.py. Pure NumPy + scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedKFold

from toxic_tagger import LABELS
from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.evaluate.calibrators import (
    FITTED_KINDS, KINDS, TagCalibrator, fit_calibrator, parse_tag_calibrator,
)

ECE_BINS = 15  # equal-width bins on [0, 1], as in Guo et al. 2017 ("On Calibration of Modern Neural Networks")
JSON_VERSION = 1


def _check(labels: np.ndarray, probs: np.ndarray) -> None:
    """Same (n, k) shape, 0/1 labels, finite probabilities in [0, 1]."""
    if labels.ndim != 2 or labels.shape != probs.shape or len(labels) == 0:
        raise ToxicTaggerError(f"labels and probs must both be (n, k) with n > 0; got {labels.shape} and {probs.shape}")
    if not np.isin(labels, (0, 1)).all():
        raise ToxicTaggerError("labels must be 0/1")
    if not (np.isfinite(probs).all() and (probs >= 0).all() and (probs <= 1).all()):
        raise ToxicTaggerError("probs must be finite and within [0, 1]")


def brier(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Brier score per tag, mean((prob - label)^2): (k,). 0 is perfect; lower is better."""
    _check(labels, probs)
    return np.mean((probs - labels) ** 2, axis=0)


def _bins(label: np.ndarray, prob: np.ndarray, bins: int) -> dict[str, np.ndarray]:
    """One tag's non-empty equal-width bins: index, count, mean predicted, observed frequency."""
    index = np.minimum((prob * bins).astype(int), bins - 1)  # prob == 1.0 belongs to the last bin
    count = np.bincount(index, minlength=bins)
    full = count > 0
    predicted = np.bincount(index, weights=prob, minlength=bins)[full] / count[full]
    observed = np.bincount(index, weights=label, minlength=bins)[full] / count[full]
    return {"bin": np.flatnonzero(full), "count": count[full],
            "mean_predicted": predicted, "observed": observed}


def ece(labels: np.ndarray, probs: np.ndarray, bins: int = ECE_BINS) -> np.ndarray:
    """Expected calibration error per tag: (k,).

    sum over equal-width bins of (bin count / n) * |mean predicted - observed frequency|.
    """
    _check(labels, probs)
    out = np.empty(labels.shape[1])
    for j in range(labels.shape[1]):
        b = _bins(labels[:, j].astype(float), probs[:, j], bins)
        out[j] = np.sum(b["count"] * np.abs(b["mean_predicted"] - b["observed"])) / len(labels)
    return out


def reliability(labels: np.ndarray, probs: np.ndarray, bins: int = ECE_BINS) -> list[dict[str, np.ndarray]]:
    """Reliability-diagram data, one dict per tag in column order, non-empty bins only.

    Each dict holds arrays of equal length: `bin` (0-based index; the bin spans
    [bin/bins, (bin+1)/bins)), `count`, `mean_predicted`, `observed` (fraction of positives).
    One CSV row per (tag, bin) is what a DVC plot of observed against mean_predicted needs.
    """
    _check(labels, probs)
    return [_bins(labels[:, j].astype(float), probs[:, j], bins) for j in range(labels.shape[1])]


@dataclass(frozen=True)
class Calibration:
    """One calibrator per tag, in LABELS order. `apply` maps (n, 6) probabilities to (n, 6)
    calibrated ones: finite, within [0, 1], and non-decreasing in the input per tag."""

    tags: tuple[TagCalibrator, ...]

    def __post_init__(self) -> None:
        if len(self.tags) != len(LABELS):
            raise ToxicTaggerError(f"calibration needs {len(LABELS)} tags, got {len(self.tags)}")

    @classmethod
    def identity(cls) -> Calibration:
        """The calibration that changes nothing ("none")."""
        return cls(tuple(TagCalibrator("none") for _ in LABELS))

    @property
    def is_identity(self) -> bool:
        return all(t.kind == "none" for t in self.tags)

    def kinds(self) -> dict[str, str]:
        """{tag: calibrator kind}, for summaries and model cards."""
        return {label: t.kind for label, t in zip(LABELS, self.tags)}

    def apply(self, probs: np.ndarray) -> np.ndarray:
        probs = np.asarray(probs, dtype=float)
        if probs.ndim != 2 or probs.shape[1] != len(LABELS) or not np.isfinite(probs).all():
            raise ToxicTaggerError(f"probs must be finite (n, {len(LABELS)}); got shape {probs.shape}")
        return np.column_stack([t.apply(probs[:, j]) for j, t in enumerate(self.tags)])

    def to_json(self) -> dict:
        return {"version": JSON_VERSION,
                "tags": [{"tag": label, **t.to_json()} for label, t in zip(LABELS, self.tags)]}

    @classmethod
    def from_json(cls, data: object) -> Calibration:
        """Validate and load `to_json`'s output; ToxicTaggerError with one line naming the fault."""
        if not isinstance(data, dict) or set(data) != {"version", "tags"}:
            raise ToxicTaggerError("calibration: expected an object with exactly the keys 'version' and 'tags'")
        if data["version"] != JSON_VERSION:
            raise ToxicTaggerError(f"calibration: version {data['version']!r} is not {JSON_VERSION}")
        entries = data["tags"]
        if not isinstance(entries, list) or len(entries) != len(LABELS):
            raise ToxicTaggerError(f"calibration: 'tags' must be a list of {len(LABELS)} entries, one per tag")
        tags = []
        for i, (label, entry) in enumerate(zip(LABELS, entries)):
            if not isinstance(entry, dict) or entry.get("tag") != label:
                found = entry.get("tag") if isinstance(entry, dict) else entry
                raise ToxicTaggerError(f"calibration: entry {i} is {found!r}, expected tag {label!r} (LABELS order)")
            tags.append(parse_tag_calibrator({k: v for k, v in entry.items() if k != "tag"}, label))
        return cls(tuple(tags))


def _out_of_fold_brier(label: np.ndarray, prob: np.ndarray, kind: str, splits: list) -> float:
    """Brier score of `kind` fitted on K-1 folds and applied to the held-out fold, all folds."""
    predicted = np.empty_like(prob)
    for fit_rows, held_rows in splits:
        predicted[held_rows] = fit_calibrator(label[fit_rows], prob[fit_rows], kind).apply(prob[held_rows])
    return float(np.mean((predicted - label) ** 2))


def _choose_tag(label: np.ndarray, prob: np.ndarray, seed: int, folds: int, kinds: tuple[str, ...]) -> TagCalibrator:
    # Stratified folds need `folds` examples of each class; a rarer tag stays uncalibrated.
    if min(label.sum(), len(label) - label.sum()) < folds:
        return TagCalibrator("none")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = list(splitter.split(prob[:, None], label))
    scores = tuple((kind, _out_of_fold_brier(label, prob, kind, splits)) for kind in kinds)
    best = min(scores, key=lambda pair: pair[1])[0]  # ties go to the earlier (simpler) kind
    return fit_calibrator(label, prob, best).with_cv_brier(scores)


def choose_calibrator(
    labels_val: np.ndarray, probs_val: np.ndarray, seed: int, folds: int = 5, kinds: tuple[str, ...] = FITTED_KINDS,
) -> Calibration:
    """Per tag, the calibrator kind with the lowest cross-fitted Brier score, refitted on all rows.

    Cross-fitting: seeded, stratified `folds`-fold split of the validation rows; each kind is
    fitted on K-1 folds and scored on the held-out one. Brier rather than log-loss: isotonic
    regression gives exactly-0/1 flat ends, on which a held-out log-loss is dominated by a
    few rows. Ties go to the earlier kind in `kinds` (fewer parameters first); add "none" to
    `kinds` to let a tag stay uncalibrated when nothing beats the raw scores. A tag with fewer
    than `folds` positives or negatives stays uncalibrated ("none"). The out-of-fold scores are
    kept in each tag's `cv_brier`.
    """
    labels_val, probs_val = np.asarray(labels_val), np.asarray(probs_val, dtype=float)
    _check(labels_val, probs_val)
    if labels_val.shape[1] != len(LABELS) or folds < 2 or not kinds or not set(kinds) <= set(KINDS):
        raise ToxicTaggerError(f"choose_calibrator needs (n, {len(LABELS)}) arrays, folds >= 2 and kinds from {KINDS}")
    labels_val = labels_val.astype(float)
    return Calibration(tuple(_choose_tag(labels_val[:, j], probs_val[:, j], seed, folds, kinds)
                             for j in range(len(LABELS))))
