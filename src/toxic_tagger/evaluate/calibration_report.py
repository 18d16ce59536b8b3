"""How well the scores are calibrated before and after the export's calibration, for eval.json
and the reliability-diagram plots.

Inputs: `labels` (n, 6) 0/1, `before` (n, 6) the blended scores the calibration was fitted on,
`after` (n, 6) the final (calibrated) scores, and the export's `Calibration`. Outputs:
`calibration_report` (per tag and mean: Brier score and expected calibration error over
ECE_BINS equal-width bins, before and after, and the calibrator kind) and `reliability_tables`
(per tag, one row per non-empty bin: mean predicted score against observed frequency).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from toxic_tagger import LABELS
from toxic_tagger.evaluate.calibration import ECE_BINS, Calibration, brier, ece, reliability

IDEAL = pd.DataFrame({"bin": [0, ECE_BINS - 1], "count": [0, 0], "mean_predicted": [0.0, 1.0],
                      "observed": [0.0, 1.0]})  # the diagonal a calibrated tag follows


def calibration_report(labels: np.ndarray, before: np.ndarray, after: np.ndarray, calibration: Calibration,
                       bins: int = ECE_BINS) -> dict:
    """{"bins", "binning", "mean": {brier_before, brier_after, ece_before, ece_after}, tag: {the
    same, calibrator}}; floats rounded to 6 places."""
    before, after = np.asarray(before, dtype=np.float64), np.asarray(after, dtype=np.float64)
    values = {"brier_before": brier(labels, before), "brier_after": brier(labels, after),
              "ece_before": ece(labels, before, bins), "ece_after": ece(labels, after, bins)}
    kinds = calibration.kinds()
    report: dict = {"bins": bins, "binning": "equal-width on [0, 1]",
                    "mean": {name: _round(np.mean(per_tag)) for name, per_tag in values.items()}}
    for j, label in enumerate(LABELS):
        report[label] = {**{name: _round(per_tag[j]) for name, per_tag in values.items()}, "calibrator": kinds[label]}
    return report


def reliability_tables(labels: np.ndarray, before: np.ndarray, after: np.ndarray,
                       bins: int = ECE_BINS) -> dict[str, pd.DataFrame]:
    """Plot files by relative path: reliability/<tag>.csv (final scores),
    reliability_uncalibrated/<tag>.csv (before), each with columns bin, count, mean_predicted,
    observed; and reliability/ideal.csv, the diagonal."""
    tables = {"reliability/ideal.csv": IDEAL}
    for folder, probs in (("reliability", after), ("reliability_uncalibrated", before)):
        for label, rows in zip(LABELS, reliability(labels, np.asarray(probs, dtype=np.float64), bins)):
            tables[f"{folder}/{label}.csv"] = pd.DataFrame({
                "bin": rows["bin"], "count": rows["count"],
                "mean_predicted": rows["mean_predicted"].round(6), "observed": rows["observed"].round(6)})
    return tables


def _round(value: float) -> float:
    return round(float(value), 6)
