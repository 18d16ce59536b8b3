"""The `baseline` stage's model: TF-IDF over word and character n-grams + one logistic regression per tag.

A fast, transparent reference for the transformer: fitted on the same balanced train split,
thresholds tuned on the same val split, scored on val and test in the eval.json schema.

Inputs: comment texts (list of str) and labels (n, 6) in LABELS order; `BaselineParams`.
Output: a directory (models/baseline/), written without pickle:
    baseline.json        format, labels, val-tuned thresholds, analyzer settings
    vocabulary.json      each analyzer's n-grams in feature-column order
    weights.safetensors  "<analyzer>.idf": (n_terms,), "coef": (6, n_features), "intercept": (6,)
`predict_baseline` rebuilds the transform from these alone: counts over the stored vocabulary,
tf -> 1 + log(tf) if sublinear, times idf, L2-normalised per analyzer, analyzers concatenated
(word, then char) — what the fitted `TfidfVectorizer`s computed — then sigmoid(X @ coef.T + b).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from safetensors.numpy import load_file, save_file
from scipy import sparse
from scipy.special import expit
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

from toxic_tagger import LABELS, TEXT_COLUMN
from toxic_tagger.atomic_files import atomic_dir, read_json, write_json
from toxic_tagger.config import BaselineParams
from toxic_tagger.data.comments_csv import label_matrix
from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.evaluate.metrics import split_report, tune_thresholds

FORMAT = "toxic-tagger-baseline/1"
META_FILE, VOCAB_FILE, WEIGHTS_FILE = "baseline.json", "vocabulary.json", "weights.safetensors"
# One-letter words stay ("u", "f"): the default pattern's 2-letter minimum drops them.
WORD_PATTERN = r"(?u)\b\w+\b"
# CountVectorizer arguments that shape the transform (max_features only matters when fitting).
COUNT_KEYS = ("analyzer", "ngram_range", "lowercase", "strip_accents", "token_pattern")
PREDICT_CHUNK = 2048  # texts whose TF-IDF features are built at once when scoring


@dataclass(frozen=True)
class Analyzer:
    settings: dict  # COUNT_KEYS values + sublinear_tf
    terms: list[str]  # n-grams in feature-column order
    idf: np.ndarray  # (n_terms,)


@dataclass(frozen=True)
class BaselineModel:
    analyzers: dict[str, Analyzer]  # "word", "char": feature blocks in this order
    coef: np.ndarray  # (6, n_features)
    intercept: np.ndarray  # (6,)
    thresholds: np.ndarray  # (6,), tuned on val


@dataclass(frozen=True)
class FittedBaseline:
    """The in-memory sklearn pipeline, before it is reduced to arrays."""

    vectorizers: dict[str, TfidfVectorizer]
    settings: dict[str, dict]
    classifiers: list[LogisticRegression]  # one per tag, LABELS order


def analyzer_settings(params: BaselineParams) -> dict[str, dict]:
    """Transform settings per analyzer; stored with the model, so loading never reads params."""
    # strip_accents: "fück" and "fuck" become one n-gram; char_wb keeps n-grams inside words,
    # which pads each word with spaces and so marks word starts and ends.
    common = {"lowercase": True, "strip_accents": "unicode", "sublinear_tf": params.sublinear_tf}
    return {
        "word": {"analyzer": "word", "ngram_range": list(params.word_ngrams),
                 "token_pattern": WORD_PATTERN, **common},
        "char": {"analyzer": "char_wb", "ngram_range": list(params.char_ngrams),
                 "token_pattern": None, **common},
    }


def _count_kwargs(settings: dict) -> dict:
    kwargs = {key: settings[key] for key in COUNT_KEYS}
    return {**kwargs, "ngram_range": tuple(kwargs["ngram_range"])}


def fit_baseline(texts: list[str], labels: np.ndarray, params: BaselineParams, seed: int) -> FittedBaseline:
    """Fit both TF-IDF vectorizers and one logistic regression per tag on (texts, labels (n, 6))."""
    settings = analyzer_settings(params)
    limits = {"word": params.word_max_features, "char": params.char_max_features}
    vectorizers = {
        name: TfidfVectorizer(**_count_kwargs(s), sublinear_tf=s["sublinear_tf"], max_features=limits[name],
                              dtype=np.float64)
        for name, s in settings.items()
    }
    features = sparse.hstack([v.fit_transform(texts) for v in vectorizers.values()], format="csr")
    classifiers = [_fit_tag(features, labels[:, j], params, seed, label) for j, label in enumerate(LABELS)]
    return FittedBaseline(vectorizers, settings, classifiers)


def _fit_tag(features: sparse.csr_matrix, target: np.ndarray, params: BaselineParams, seed: int,
             label: str) -> LogisticRegression:
    if len(np.unique(target)) < 2:
        raise ToxicTaggerError(f"baseline: tag {label!r} has a single class in the train split; cannot fit it")
    # liblinear's dual solver: with far more features than rows the dual problem is the smaller
    # one, so it converges faster than the primal; `seed` fixes its row order.
    model = LogisticRegression(C=params.C, class_weight=params.class_weight, solver="liblinear", dual=True,
                               random_state=seed, max_iter=1000)
    return model.fit(features, target.astype(int))


def predict_fitted(fitted: FittedBaseline, texts: list[str]) -> np.ndarray:
    """Probabilities (n, 6) from the in-memory sklearn pipeline."""
    features = sparse.hstack([v.transform(texts) for v in fitted.vectorizers.values()], format="csr")
    return np.column_stack([c.predict_proba(features)[:, 1] for c in fitted.classifiers])


def to_model(fitted: FittedBaseline, thresholds: np.ndarray) -> BaselineModel:
    """Reduce the fitted pipeline to plain arrays (what is saved)."""
    analyzers = {
        name: Analyzer(fitted.settings[name], [str(t) for t in v.get_feature_names_out()],
                       np.asarray(v.idf_, dtype=np.float64))
        for name, v in fitted.vectorizers.items()
    }
    coef = np.vstack([c.coef_[0] for c in fitted.classifiers]).astype(np.float64)
    intercept = np.array([c.intercept_[0] for c in fitted.classifiers], dtype=np.float64)
    return BaselineModel(analyzers, coef, intercept, np.asarray(thresholds, dtype=np.float64))


def count_vectorizers(model: BaselineModel) -> list[CountVectorizer]:
    """One CountVectorizer per analyzer over its stored vocabulary (built once per prediction)."""
    return [CountVectorizer(**_count_kwargs(a.settings), vocabulary={term: i for i, term in enumerate(a.terms)},
                            dtype=np.float64) for a in model.analyzers.values()]


def transform(model: BaselineModel, texts: list[str], counters: list[CountVectorizer] | None = None) -> sparse.csr_matrix:
    """TF-IDF features (n, n_features), rebuilt from the stored vocabulary and idf."""
    blocks = []
    for analyzer, counter in zip(model.analyzers.values(), counters or count_vectorizers(model)):
        counts = counter.transform(texts)  # (n, n_terms) CSR
        if analyzer.settings["sublinear_tf"]:
            counts.data = np.log(counts.data) + 1.0  # only stored (non-zero) counts, as sklearn does
        counts.data *= analyzer.idf[counts.indices]
        blocks.append(normalize(counts, norm="l2"))
    return sparse.hstack(blocks, format="csr")


def predict_baseline(model: BaselineModel, texts: list[str]) -> np.ndarray:
    """Probabilities (n, 6), columns in LABELS order.

    Scored PREDICT_CHUNK texts at a time: a row's features and score depend on its own text
    only, so the result is the same, and the sparse features (~30 KiB a real comment, mostly
    character n-grams) of one chunk, not of a whole split, are ever held at once."""
    counters = count_vectorizers(model)
    out = np.empty((len(texts), len(LABELS)), dtype=np.float64)
    for start in range(0, len(texts), PREDICT_CHUNK):
        chunk = texts[start : start + PREDICT_CHUNK]
        logits = transform(model, chunk, counters) @ model.coef.T + model.intercept[None, :]  # (chunk, 6)
        out[start : start + len(chunk)] = expit(np.asarray(logits))
    return out


def train_baseline(train: pd.DataFrame, val: pd.DataFrame, params: BaselineParams, seed: int) -> BaselineModel:
    """Fit on the train split; tune per-tag thresholds (max F1) on the val split."""
    fitted = fit_baseline(train[TEXT_COLUMN].tolist(), label_matrix(train), params, seed)
    model = to_model(fitted, np.full(len(LABELS), 0.5))
    val_probs = predict_baseline(model, val[TEXT_COLUMN].tolist())
    return replace(model, thresholds=tune_thresholds(label_matrix(val), val_probs))


def baseline_report(model: BaselineModel, splits: dict[str, pd.DataFrame], bootstrap_samples: int,
                    seed: int) -> dict:
    """Metrics per split in the metrics/eval.json schema, so `dvc metrics diff` lines them up."""
    # threads: the liblinear fits and sparse products here run on one core.
    report: dict = {"threads": 1, "thresholds_from": "val"}
    for name, frame in splits.items():
        probs = predict_baseline(model, frame[TEXT_COLUMN].tolist())
        report[name] = split_report(label_matrix(frame), probs, model.thresholds, bootstrap_samples, seed)
    return report


def save_baseline(directory: str | Path, model: BaselineModel) -> None:
    """Write the model directory atomically: JSON + safetensors, no pickle."""
    meta = {"format": FORMAT, "labels": list(LABELS),
            "thresholds": {label: float(t) for label, t in zip(LABELS, model.thresholds)},
            "analyzers": {name: a.settings for name, a in model.analyzers.items()},
            "scikit_learn": sklearn.__version__}  # the analyzers' tokenisation comes from it
    tensors = {f"{name}.idf": a.idf for name, a in model.analyzers.items()}
    tensors.update(coef=model.coef, intercept=model.intercept)
    with atomic_dir(directory) as tmp:
        write_json(tmp / META_FILE, meta)
        write_json(tmp / VOCAB_FILE, {name: a.terms for name, a in model.analyzers.items()})
        save_file({k: np.ascontiguousarray(v, dtype=np.float64) for k, v in tensors.items()}, str(tmp / WEIGHTS_FILE))


def load_baseline(directory: str | Path) -> BaselineModel:
    """Read a directory written by `save_baseline`; raise ToxicTaggerError if it is not one."""
    directory = Path(directory)
    if not all((directory / name).is_file() for name in (META_FILE, VOCAB_FILE, WEIGHTS_FILE)):
        raise ToxicTaggerError(f"{directory}: not a baseline model (expected {META_FILE}, {VOCAB_FILE}, "
                               f"{WEIGHTS_FILE}); run `dvc repro baseline`")
    meta = read_json(directory / META_FILE)
    if meta.get("format") != FORMAT or meta.get("labels") != list(LABELS):
        raise ToxicTaggerError(f"{directory / META_FILE}: expected format {FORMAT!r} with labels {list(LABELS)}")
    vocabularies = read_json(directory / VOCAB_FILE)
    weights = load_file(str(directory / WEIGHTS_FILE))
    analyzers = {name: Analyzer(settings, vocabularies[name], weights[f"{name}.idf"])
                 for name, settings in meta["analyzers"].items()}
    thresholds = np.array([meta["thresholds"][label] for label in LABELS], dtype=np.float64)
    model = BaselineModel(analyzers, weights["coef"], weights["intercept"], thresholds)
    _check_shapes(model, directory)
    return model


def _check_shapes(model: BaselineModel, directory: Path) -> None:
    n_features = sum(len(a.terms) for a in model.analyzers.values())
    consistent = all(len(a.terms) == len(a.idf) for a in model.analyzers.values())
    if not consistent or model.coef.shape != (len(LABELS), n_features) or model.intercept.shape != (len(LABELS),):
        raise ToxicTaggerError(
            f"{directory}: vocabulary, idf and coefficient shapes disagree; re-run `dvc repro baseline`")
