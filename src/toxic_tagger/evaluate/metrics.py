"""Per-tag metrics, threshold tuning and bootstrap confidence intervals (pure NumPy).

Inputs everywhere: `labels` (n, 6) 0/1 and `probs` (n, 6) in [0, 1], columns in LABELS order.
A tag is predicted positive when prob >= its threshold.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_recall_curve, roc_auc_score

from toxic_tagger import LABELS

RESAMPLE_CHUNK = 100  # bootstrap resamples whose negatives' weights are held at once


def per_tag_auroc(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """AUROC per tag: (6,); NaN where a tag has only one class in `labels`."""
    out = np.full(labels.shape[1], np.nan)
    for j in range(labels.shape[1]):
        if 0 < labels[:, j].sum() < len(labels):
            out[j] = roc_auc_score(labels[:, j], probs[:, j])
    return out


def confusion(labels: np.ndarray, probs: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """True/false positives and false/true negatives per tag: (6, 4) as tp, fp, fn, tn."""
    predicted = probs >= thresholds[None, :]
    positive = labels.astype(bool)
    return np.stack(
        [(predicted & positive).sum(0), (predicted & ~positive).sum(0),
         (~predicted & positive).sum(0), (~predicted & ~positive).sum(0)], axis=1,
    )


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros_like(num, dtype=float), where=den > 0)


def prf(labels: np.ndarray, probs: np.ndarray, thresholds: np.ndarray) -> dict[str, np.ndarray | float]:
    """Per-tag precision/recall/F1 (6,) and micro/macro F1 at `thresholds`."""
    counts = confusion(labels, probs, thresholds).astype(float)
    tp, fp, fn = counts[:, 0], counts[:, 1], counts[:, 2]
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    micro = float(_ratio(np.array([2 * tp.sum()]), np.array([2 * tp.sum() + fp.sum() + fn.sum()]))[0])
    return {"precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn), "f1": f1,
            "micro_f1": micro, "macro_f1": float(f1.mean())}


def tune_thresholds(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Per-tag threshold maximising F1 on (labels, probs): (6,). 0.5 where a tag has no positives."""
    thresholds = np.full(labels.shape[1], 0.5)
    for j in range(labels.shape[1]):
        if labels[:, j].sum() == 0:
            continue
        precision, recall, cut = precision_recall_curve(labels[:, j], probs[:, j])
        f1 = _ratio(2 * precision[:-1] * recall[:-1], precision[:-1] + recall[:-1])
        thresholds[j] = float(cut[int(np.argmax(f1))])
    return thresholds


def bootstrap_tag(
    labels: np.ndarray, probs: np.ndarray, threshold: float, samples: int, rng: np.random.Generator,
) -> dict[str, tuple[float, float]]:
    """95% intervals of one tag's AUROC and F1 over `samples` stratified resamples.

    Positives and negatives are resampled separately (each keeps its count), so no resample
    loses a rare tag's positives. AUROC per resample is computed from resample weights over
    the sorted negative scores, so all resamples are scored in a few vectorised passes.
    The negatives' weights, (B, n_neg) and as large as the split, are drawn and used
    RESAMPLE_CHUNK resamples at a time: the generator draws them row by row, so the values
    are the same as in one draw, and memory stays flat as the split grows.
    """
    positive = labels.astype(bool)
    pos, neg = probs[positive], np.sort(probs[~positive])
    if len(pos) == 0 or len(neg) == 0:
        return {"auroc": (float("nan"),) * 2, "f1": (float("nan"),) * 2}
    w_pos = rng.multinomial(len(pos), np.full(len(pos), 1 / len(pos)), size=samples)  # (B, n_pos)
    below, upto = np.searchsorted(neg, pos, "left"), np.searchsorted(neg, pos, "right")
    auroc, fp = np.empty(samples), np.empty(samples, dtype=np.int64)
    for start in range(0, samples, RESAMPLE_CHUNK):
        rows = slice(start, min(start + RESAMPLE_CHUNK, samples))
        w_neg = rng.multinomial(len(neg), np.full(len(neg), 1 / len(neg)), size=rows.stop - start)  # (b, n_neg)
        cum = np.concatenate([np.zeros((len(w_neg), 1)), np.cumsum(w_neg, axis=1)], axis=1)
        wins = cum[:, below] + 0.5 * (cum[:, upto] - cum[:, below])  # (b, n_pos) weighted negatives beaten
        auroc[rows] = (w_pos[rows] * wins).sum(1) / (len(pos) * len(neg))
        fp[rows] = (w_neg * (neg >= threshold)).sum(1)
    tp = (w_pos * (pos >= threshold)).sum(1)
    f1 = _ratio(2 * tp, 2 * tp + fp + (len(pos) - tp))
    interval = lambda x: (float(np.percentile(x, 2.5)), float(np.percentile(x, 97.5)))  # noqa: E731
    return {"auroc": interval(auroc), "f1": interval(f1)}


def split_report(
    labels: np.ndarray, probs: np.ndarray, thresholds: np.ndarray, bootstrap_samples: int, seed: int,
) -> dict:
    """The metrics of one split in the eval.json schema (keys are stable: only ever added)."""
    aurocs = per_tag_auroc(labels, probs)
    tuned = prf(labels, probs, thresholds)
    half = prf(labels, probs, np.full(len(LABELS), 0.5))
    rng = np.random.default_rng(seed)
    report: dict = {"rows": int(len(labels)), "mean_auroc": _num(np.nanmean(aurocs)),
                    "micro_f1": _num(tuned["micro_f1"]), "macro_f1": _num(tuned["macro_f1"]),
                    "at_0_5": {"micro_f1": _num(half["micro_f1"]), "macro_f1": _num(half["macro_f1"])}}
    for j, label in enumerate(LABELS):
        ci = bootstrap_tag(labels[:, j], probs[:, j], thresholds[j], bootstrap_samples, rng)
        report[label] = {
            "support": int(labels[:, j].sum()), "auroc": _num(aurocs[j]),
            "auroc_ci95_low": _num(ci["auroc"][0]), "auroc_ci95_high": _num(ci["auroc"][1]),
            "threshold": _num(thresholds[j]), "precision": _num(tuned["precision"][j]),
            "recall": _num(tuned["recall"][j]), "f1": _num(tuned["f1"][j]),
            "f1_ci95_low": _num(ci["f1"][0]), "f1_ci95_high": _num(ci["f1"][1]),
            "at_0_5": {"precision": _num(half["precision"][j]), "recall": _num(half["recall"][j]),
                       "f1": _num(half["f1"][j])},
        }
    return report


def _num(value: float) -> float | None:
    """JSON-safe float: None for NaN (a tag without both classes)."""
    return None if np.isnan(value) else round(float(value), 6)
