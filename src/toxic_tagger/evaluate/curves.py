"""Evaluation plot data: per-tag ROC and precision-recall curves, confusion at the thresholds.

Input: `labels` (n, 6) 0/1, `probs` (n, 6), tuned `thresholds` (6,). Output: small CSV files
(DVC plots) in one directory:
    roc/<tag>.csv        fpr, tpr          (at most MAX_POINTS rows each)
    pr/<tag>.csv         recall, precision
    confusion/<tag>.csv  actual, predicted (one row per comment: DVC's confusion template)
    confusion.csv        tag, tp, fp, fn, tn, threshold
plus any `extra` tables the caller passes by relative path (the evaluate stage: reliability
diagrams, calibration_report.py; identity-subgroup AUCs, `bias_frame`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve, roc_curve

from toxic_tagger import LABELS
from toxic_tagger.atomic_files import atomic_dir
from toxic_tagger.evaluate.metrics import confusion

MAX_POINTS = 200


def _thin(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep at most MAX_POINTS rows, always including the first and last."""
    if len(frame) <= MAX_POINTS:
        return frame
    keep = np.unique(np.linspace(0, len(frame) - 1, MAX_POINTS).round().astype(int))
    return frame.iloc[keep]


def roc_frame(labels: np.ndarray, probs: np.ndarray) -> pd.DataFrame:
    fpr, tpr, _ = roc_curve(labels, probs)
    return _thin(pd.DataFrame({"fpr": fpr.round(6), "tpr": tpr.round(6)}))


def pr_frame(labels: np.ndarray, probs: np.ndarray) -> pd.DataFrame:
    precision, recall, _ = precision_recall_curve(labels, probs)
    frame = pd.DataFrame({"recall": recall.round(6), "precision": precision.round(6)})
    return _thin(frame.iloc[::-1].reset_index(drop=True))  # increasing recall reads left to right


def confusion_frame(labels: np.ndarray, probs: np.ndarray, thresholds: np.ndarray) -> pd.DataFrame:
    counts = confusion(labels, probs, thresholds)
    frame = pd.DataFrame(counts, columns=["tp", "fp", "fn", "tn"])
    frame.insert(0, "tag", list(LABELS))
    frame["threshold"] = thresholds.round(6)
    return frame


def bias_frame(report: dict) -> pd.DataFrame:
    """bias.py's `bias_report` as one row per subgroup: subgroup, size, positives, the three AUCs
    (empty where the subgroup has too few comments to score) and status (why)."""
    rows = [{"subgroup": name, "size": entry["size"], "positives": entry["positives"],
             "subgroup_auc": entry["subgroup_auc"], "bpsn_auc": entry["bpsn_auc"], "bnsp_auc": entry["bnsp_auc"],
             "status": entry["status"]} for name, entry in report["subgroups"].items()]
    return pd.DataFrame(rows)


def write_curves(target: Path, labels: np.ndarray, probs: np.ndarray, thresholds: np.ndarray,
                 extra: dict[str, pd.DataFrame] | None = None) -> None:
    """Write every plot file under `target` (replaced atomically as a whole); `extra`: more
    tables by path relative to `target`."""
    names = np.array(["negative", "positive"])
    with atomic_dir(target) as tmp:
        for relative, frame in (extra or {}).items():
            (tmp / relative).parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(tmp / relative, index=False)
        for sub in ("roc", "pr", "confusion"):
            (tmp / sub).mkdir()
        for j, label in enumerate(LABELS):
            if 0 < labels[:, j].sum() < len(labels):
                roc_frame(labels[:, j], probs[:, j]).to_csv(tmp / "roc" / f"{label}.csv", index=False)
                pr_frame(labels[:, j], probs[:, j]).to_csv(tmp / "pr" / f"{label}.csv", index=False)
            predicted = (probs[:, j] >= thresholds[j]).astype(int)
            pd.DataFrame({"actual": names[labels[:, j].astype(int)], "predicted": names[predicted]}).to_csv(
                tmp / "confusion" / f"{label}.csv", index=False)
        confusion_frame(labels, probs, thresholds).to_csv(tmp / "confusion.csv", index=False)
