"""Identity-subgroup bias metrics of Borkan et al. 2019, as scored in the Jigsaw Unintended Bias
in Toxicity Classification competition ("Nuanced Metrics for Measuring Unintended Bias with
Real Data for Text Classification", arXiv:1903.04561).

Inputs: comment texts (n,), 0/1 toxic labels (n,), model scores (n,) (any monotone score:
probabilities or logits), and an identity-term lexicon (identity_terms.json, shipped in the
package; `load_lexicon`). A comment belongs to a subgroup when it mentions one of its terms.
Output: `bias_report`, a JSON-ready dict. Per subgroup s:
- subgroup AUC: AUC on the comments mentioning s;
- BPSN AUC (background positive, subgroup negative): background positives + s's negatives,
  low when non-toxic mentions of s score higher than toxic comments elsewhere;
- BNSP AUC (background negative, subgroup positive): background negatives + s's positives.
Each is summarised over subgroups by the generalized mean M_p = mean(m_s ** p) ** (1/p) with
p = -5 (it leans towards the worst subgroup), and
final score = 0.25 * overall AUC + 0.25 * (M_p(subgroup) + M_p(BPSN) + M_p(BNSP)).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from toxic_tagger.errors import InputError, ToxicTaggerError

POWER = -5
WEIGHT = 0.25  # of the overall AUC and of each of the three generalized means
MIN_POSITIVES = 10  # below this many toxic (or non-toxic) comments a subgroup's AUCs are noise
MIN_NEGATIVES = 10
METRICS = ("subgroup_auc", "bpsn_auc", "bnsp_auc")
PACKAGED_LEXICON = "identity_terms.json"


@dataclass(frozen=True)
class Lexicon:
    version: str
    source: str
    subgroups: dict[str, tuple[str, ...]]  # subgroup -> lower-case words or phrases


def parse_lexicon(data: object, path: str | Path) -> Lexicon:
    """Validate a lexicon document; InputError naming `path` and what is wrong."""
    if not isinstance(data, dict) or set(data) != {"version", "source", "subgroups"}:
        raise InputError(path, "expected an object with exactly the keys 'version', 'source' and 'subgroups'")
    if not (isinstance(data["version"], str) and isinstance(data["source"], str)):
        raise InputError(path, "'version' and 'source' must be strings")
    groups = data["subgroups"]
    if not isinstance(groups, dict) or not groups:
        raise InputError(path, "'subgroups' must be a non-empty object of subgroup -> list of terms")
    for name, terms in groups.items():
        if not (isinstance(terms, list) and terms and all(isinstance(t, str) for t in terms)):
            raise InputError(path, "must be a non-empty list of strings", where=f"subgroup {name!r}")
        bad = [t for t in terms if t != t.strip().lower() or not t]
        if bad:
            raise InputError(path, f"terms must be lower-case without outer spaces: {bad[0]!r}",
                             where=f"subgroup {name!r}")
    return Lexicon(data["version"], data["source"], {k: tuple(v) for k, v in groups.items()})


def load_lexicon(path: Path | None = None) -> Lexicon:
    """The lexicon at `path`, or the packaged identity_terms.json when `path` is None."""
    if path is None:
        resource = resources.files("toxic_tagger.evaluate").joinpath(PACKAGED_LEXICON)
        return parse_lexicon(json.loads(resource.read_text(encoding="utf-8")), f"{PACKAGED_LEXICON} (packaged)")
    try:
        return parse_lexicon(json.loads(Path(path).read_text(encoding="utf-8")), path)
    except json.JSONDecodeError as error:
        raise InputError(path, f"not JSON: {error.msg}", where=f"line {error.lineno}, column {error.colno}") from error


def _term_pattern(terms: Sequence[str]) -> re.Pattern:
    # Whole words only ("trans" not in "transport"); a phrase's words may be split by any whitespace.
    phrases = [r"\s+".join(map(re.escape, t.split())) for t in sorted(terms, key=len, reverse=True)]
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b", re.IGNORECASE)


def subgroup_masks(texts: Sequence[str], lexicon: Lexicon) -> dict[str, np.ndarray]:
    """Per subgroup, a bool mask (n,): does the text mention one of its terms (case-insensitive)?"""
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ToxicTaggerError(f"text {i} is {type(text).__name__}, not a string")
    return {name: np.fromiter((bool(rx.search(t)) for t in texts), dtype=bool, count=len(texts))
            for name, rx in ((name, _term_pattern(terms)) for name, terms in lexicon.subgroups.items())}


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """AUC, NaN when only one class is present."""
    return float(roc_auc_score(labels, scores)) if 0 < labels.sum() < len(labels) else float("nan")


def subgroup_auc(labels: np.ndarray, scores: np.ndarray, in_subgroup: np.ndarray) -> float:
    return _auc(labels[in_subgroup], scores[in_subgroup])


def bpsn_auc(labels: np.ndarray, scores: np.ndarray, in_subgroup: np.ndarray) -> float:
    """AUC on background positives and subgroup negatives."""
    rows = (~in_subgroup & (labels == 1)) | (in_subgroup & (labels == 0))
    return _auc(labels[rows], scores[rows])


def bnsp_auc(labels: np.ndarray, scores: np.ndarray, in_subgroup: np.ndarray) -> float:
    """AUC on background negatives and subgroup positives."""
    rows = (~in_subgroup & (labels == 0)) | (in_subgroup & (labels == 1))
    return _auc(labels[rows], scores[rows])


def generalized_mean(values: Sequence[float], p: float = POWER) -> float:
    """(mean(v ** p)) ** (1 / p) of values in [0, 1]; for p < 0 a zero makes it 0 (its limit)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0 or p == 0 or (values < 0).any() or not np.isfinite(values).all():
        raise ToxicTaggerError(f"generalized mean needs finite values >= 0 and p != 0; got {values.tolist()}, p={p}")
    if p < 0 and (values == 0).any():
        return 0.0
    return float(np.mean(values ** p) ** (1 / p))


def final_score(overall_auc: float, subgroup_mean: float, bpsn_mean: float, bnsp_mean: float) -> float:
    """The competition's score: 0.25 times each of the overall AUC and the three generalized means."""
    return WEIGHT * (overall_auc + subgroup_mean + bpsn_mean + bnsp_mean)


def _status(labels: np.ndarray, in_subgroup: np.ndarray, min_positives: int, min_negatives: int) -> str:
    """"ok", or why this subgroup's AUCs are not computed, with the counts."""
    groups = {"": in_subgroup, "background ": ~in_subgroup}
    for where, rows in groups.items():
        positives, negatives = int(labels[rows].sum()), int((labels[rows] == 0).sum())
        if positives < min_positives:
            return f"too few {where}positives ({positives} < {min_positives})"
        if negatives < min_negatives:
            return f"too few {where}negatives ({negatives} < {min_negatives})"
    return "ok"


def _round(value: float | None) -> float | None:
    return None if value is None or np.isnan(value) else round(float(value), 6)


def _subgroup_entry(labels: np.ndarray, scores: np.ndarray, mask: np.ndarray, min_pos: int, min_neg: int) -> dict:
    status = _status(labels, mask, min_pos, min_neg)
    aucs = {metric: (f(labels, scores, mask) if status == "ok" else None)
            for metric, f in zip(METRICS, (subgroup_auc, bpsn_auc, bnsp_auc))}
    return {"size": int(mask.sum()), "positives": int(labels[mask].sum()),
            "negatives": int((labels[mask] == 0).sum()), **aucs, "status": status}


def bias_report(
    texts: Sequence[str], labels_toxic: np.ndarray, scores: np.ndarray, lexicon: Lexicon,
    min_positives: int = MIN_POSITIVES, min_negatives: int = MIN_NEGATIVES,
) -> dict:
    """Bias metrics of one split, JSON-ready (floats rounded to 6 places, null where undefined).

    Every lexicon subgroup is reported; one with fewer than `min_positives` toxic or
    `min_negatives` non-toxic comments (in the subgroup or in its background) gets null AUCs and
    a status saying so, and is left out of the generalized means (`subgroups_used` counts the
    rest). `final_score` is null when no subgroup is usable or the overall AUC is undefined.
    """
    labels, scores = np.asarray(labels_toxic), np.asarray(scores, dtype=float)
    if labels.shape != (len(texts),) or scores.shape != (len(texts),) or not np.isin(labels, (0, 1)).all():
        raise ToxicTaggerError(f"bias_report needs {len(texts)} texts, 0/1 labels and scores, each (n,); "
                               f"got labels {labels.shape}, scores {scores.shape}")
    if not np.isfinite(scores).all() or min(min_positives, min_negatives) < 1:
        raise ToxicTaggerError("bias_report: scores must be finite and min_positives, min_negatives >= 1")
    masks = subgroup_masks(texts, lexicon)
    entries = {name: _subgroup_entry(labels, scores, mask, min_positives, min_negatives)
               for name, mask in masks.items()}
    usable = [e for e in entries.values() if e["status"] == "ok"]
    means = {metric: generalized_mean([e[metric] for e in usable]) if usable else None for metric in METRICS}
    overall = _auc(labels, scores)
    final = final_score(overall, *means.values()) if usable and not np.isnan(overall) else None
    return {
        "lexicon_version": lexicon.version, "rows": len(texts), "overall_auc": _round(overall),
        "final_score": _round(final), "power": POWER, "min_positives": min_positives, "min_negatives": min_negatives,
        "generalized_means": {**{m: _round(v) for m, v in means.items()},
                              "subgroups_used": len(usable), "subgroups_total": len(entries)},
        "subgroups": {name: {k: _round(v) if k in METRICS else v for k, v in e.items()} for name, e in entries.items()},
    }
