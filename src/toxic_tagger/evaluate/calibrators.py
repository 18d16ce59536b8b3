"""One tag's calibration map: fitting, applying, and its plain-JSON form (used by calibration.py).

Kinds, each non-decreasing in the raw probability p so a tag's ranking (AUROC) is kept:
- "none":        p unchanged.
- "temperature": sigmoid(scale * logit(p)); one parameter, scale = 1 / T, no bias.
- "platt":       sigmoid(scale * logit(p) + bias); two parameters.
- "isotonic":    np.interp(p, x, y) over stored breakpoints (no pickle needed).

Input: one tag's labels (n,) 0/1 and probabilities (n,) in [0, 1]. Output: a frozen
`TagCalibrator`; `apply` maps (n,) -> (n,) finite values within [0, 1].

Isotonic regression alone is a step function: it ties raw scores that differed, and those ties
can lower AUROC slightly. The fitted breakpoints therefore mix in ISOTONIC_TIE_MIX * p, which
makes the map strictly increasing (ties only where floating point cannot tell scores apart)
and moves no probability by more than ISOTONIC_TIE_MIX.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression

from toxic_tagger.errors import ToxicTaggerError

KINDS = ("none", "temperature", "platt", "isotonic")
FITTED_KINDS = ("temperature", "platt", "isotonic")  # fewer parameters first: ties in selection go left
ISOTONIC_TIE_MIX = 1e-6
LOGIT_CLIP = 1e-12  # logit(0) is -inf; clipping ties only scores closer than this to 0 or 1
RIDGE = 1e-6  # pulls (scale, bias) towards (1, 0): keeps the fit finite when a fold is separable
_PARAMS = {"none": (), "temperature": ("scale",), "platt": ("scale", "bias"), "isotonic": ("x", "y")}


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, LOGIT_CLIP, 1 - LOGIT_CLIP)
    return np.log(p) - np.log1p(-p)


def sigmoid(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))  # never overflows; keeps relative precision for tiny probabilities
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


@dataclass(frozen=True)
class TagCalibrator:
    kind: str
    scale: float = 1.0  # temperature, platt
    bias: float = 0.0  # platt
    x: tuple[float, ...] = ()  # isotonic: raw probabilities, strictly increasing
    y: tuple[float, ...] = ()  # isotonic: calibrated values in [0, 1], non-decreasing
    cv_brier: tuple[tuple[str, float], ...] = ()  # (kind, out-of-fold Brier) from the selection

    def apply(self, prob: np.ndarray) -> np.ndarray:
        prob = np.clip(np.asarray(prob, dtype=float), 0.0, 1.0)
        if self.kind == "isotonic":
            return np.interp(prob, self.x, self.y)
        if self.kind in ("temperature", "platt"):
            return sigmoid(self.scale * logit(prob) + self.bias)
        return prob

    def with_cv_brier(self, scores: tuple[tuple[str, float], ...]) -> TagCalibrator:
        return dataclasses.replace(self, cv_brier=scores)

    def to_json(self) -> dict:
        out: dict = {"kind": self.kind}
        for name in _PARAMS[self.kind]:
            value = getattr(self, name)
            out[name] = list(value) if isinstance(value, tuple) else value
        if self.cv_brier:
            out["cv_brier"] = dict(self.cv_brier)
        return out


def _fit_logistic(z: np.ndarray, label: np.ndarray, with_bias: bool) -> np.ndarray:
    """(scale,) or (scale, bias) minimising mean log-loss of sigmoid(scale * z + bias) + ridge.

    Newton's method with step halving; the objective is convex, so this converges.
    """
    x = np.column_stack([z, np.ones_like(z)]) if with_bias else z[:, None]  # (n, 1 or 2)
    start = np.eye(x.shape[1])[0]  # (1, 0): the identity map

    def loss(w: np.ndarray) -> float:
        s = x @ w
        return float(np.mean(np.logaddexp(0, s) - label * s) + RIDGE / 2 * np.sum((w - start) ** 2))

    w = start.copy()
    for _ in range(100):
        p = sigmoid(x @ w)
        grad = x.T @ (p - label) / len(z) + RIDGE * (w - start)
        hess = (x.T * (p * (1 - p))) @ x / len(z) + RIDGE * np.eye(len(w))
        step, t, current = np.linalg.solve(hess, grad), 1.0, loss(w)
        while loss(w - t * step) > current and t > 1e-12:
            t /= 2
        w = w - t * step
        if np.max(np.abs(t * step)) < 1e-12:
            break
    return w


def _fit_isotonic(label: np.ndarray, prob: np.ndarray, tie_mix: float) -> TagCalibrator:
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(prob, label)
    x, y = iso.X_thresholds_.astype(float), iso.y_thresholds_.astype(float)  # x strictly increasing
    # Endpoints 0 and 1 make the mixed-in tie_mix * p linear over all of [0, 1].
    if x[0] > 0:
        x, y = np.r_[0.0, x], np.r_[y[0], y]
    if x[-1] < 1:
        x, y = np.r_[x, 1.0], np.r_[y, y[-1]]
    y = np.clip((1 - tie_mix) * y + tie_mix * x, 0.0, 1.0)
    return TagCalibrator("isotonic", x=tuple(x.tolist()), y=tuple(y.tolist()))


def fit_calibrator(label: np.ndarray, prob: np.ndarray, kind: str, tie_mix: float = ISOTONIC_TIE_MIX) -> TagCalibrator:
    """Fit one tag's `kind` on labels (n,) 0/1 and raw probabilities (n,)."""
    label, prob = np.asarray(label, dtype=float), np.asarray(prob, dtype=float)
    if kind == "isotonic":
        return _fit_isotonic(label, prob, tie_mix)
    if kind not in ("temperature", "platt"):
        return TagCalibrator("none")
    w = _fit_logistic(logit(prob), label, with_bias=kind == "platt")
    if w[0] < 0:
        # Scores ranked backwards: the best non-decreasing map of this form is flat, scale 0
        # (and, for Platt, the base rate as bias), rather than a map that reverses the ranking.
        mean = float(np.clip(label.mean(), LOGIT_CLIP, 1 - LOGIT_CLIP))
        w = np.array([0.0, math.log(mean / (1 - mean))]) if kind == "platt" else np.zeros(1)
    return TagCalibrator(kind, scale=float(w[0]), bias=float(w[1]) if kind == "platt" else 0.0)


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _breakpoints(entry: dict, label: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    x, y = entry["x"], entry["y"]
    if not (isinstance(x, list) and isinstance(y, list) and len(x) == len(y) >= 1):
        raise ToxicTaggerError(
            f"calibration tag {label!r}: isotonic 'x' and 'y' must be lists of equal, non-zero length")
    if not all(_number(v) for v in x + y):
        raise ToxicTaggerError(f"calibration tag {label!r}: isotonic 'x' and 'y' must hold finite numbers")
    if any(b <= a for a, b in zip(x, x[1:])):
        raise ToxicTaggerError(f"calibration tag {label!r}: isotonic 'x' must be strictly increasing")
    if any(b < a for a, b in zip(y, y[1:])) or y[0] < 0 or y[-1] > 1:
        raise ToxicTaggerError(f"calibration tag {label!r}: isotonic 'y' must be non-decreasing within [0, 1]")
    return tuple(float(v) for v in x), tuple(float(v) for v in y)


def parse_tag_calibrator(entry: dict, label: str) -> TagCalibrator:
    """Validate one tag's JSON entry (without its "tag" key); ToxicTaggerError names the fault."""
    kind = entry.get("kind")
    if kind not in KINDS:
        raise ToxicTaggerError(f"calibration tag {label!r}: unknown kind {kind!r}, expected one of {KINDS}")
    expected = {"kind", *_PARAMS[kind]}
    if not expected <= set(entry) <= expected | {"cv_brier"}:
        raise ToxicTaggerError(f"calibration tag {label!r}: kind {kind!r} needs exactly the keys "
                               f"{sorted(expected)} (and optionally 'cv_brier'), got {sorted(entry)}")
    fields: dict = {}
    for name in set(_PARAMS[kind]) & {"scale", "bias"}:
        if not _number(entry[name]):
            raise ToxicTaggerError(f"calibration tag {label!r}: {name!r} must be a finite number, got {entry[name]!r}")
        fields[name] = float(entry[name])
    if fields.get("scale", 0.0) < 0:
        raise ToxicTaggerError(f"calibration tag {label!r}: 'scale' must be >= 0 (a negative one reverses the ranking)")
    if kind == "isotonic":
        fields["x"], fields["y"] = _breakpoints(entry, label)
    scores = entry.get("cv_brier", {})
    if not (isinstance(scores, dict) and set(scores) <= set(KINDS) and all(_number(v) for v in scores.values())):
        raise ToxicTaggerError(f"calibration tag {label!r}: 'cv_brier' must map kinds to finite numbers")
    return TagCalibrator(kind, cv_brier=tuple((k, float(v)) for k, v in scores.items()), **fields)
