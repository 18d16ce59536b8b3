"""Typed view of `params.yaml`: one frozen dataclass per pipeline section.

`load_params(path)` parses the YAML, rejects unknown or missing keys and values of the wrong
type with an `InputError` naming the file, line and column, and returns a `Params` object.
The rest of the code receives these typed values, never raw dicts.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from toxic_tagger.errors import InputError


@dataclass(frozen=True)
class FetchParams:
    source: str  # "sample", a local .csv/.csv.gz/.zip path, or an http(s) URL
    sha256: str | None  # expected sha256 of the source file (optional)
    sample_rows: int  # rows of the synthetic sample (source: sample)


@dataclass(frozen=True)
class SplitParams:
    val_fraction: float
    test_fraction: float
    clean_rows: int | None  # untagged rows kept in the balanced train split; null = all of them


@dataclass(frozen=True)
class TokenStatsParams:
    max_lengths: tuple[int, ...]  # lengths at which truncation and padding efficiency are reported


@dataclass(frozen=True)
class ModelParams:
    name: str  # packaged id, local directory or hub id
    max_length: int  # tokens per comment after truncation
    hidden_dropout: float  # dropout on hidden states during fine-tuning
    attention_dropout: float  # dropout on attention probabilities (0 keeps the fused kernel)


@dataclass(frozen=True)
class TrainParams:
    epochs: int
    lr: float  # encoder learning rate (peak, after warm-up)
    head_lr: float  # learning rate of the freshly initialised classification head
    pos_weight_power: float  # BCE pos_weight per tag = (negatives / positives) ** power; 0 = off
    weight_decay: float
    warmup_fraction: float  # share of all optimizer steps with linear warm-up
    max_tokens_per_batch: int  # padded tokens per batch (batch size x longest comment)
    max_batch_size: int
    batching: Literal["bucket", "fixed"]  # length-bucketed token-budget batches, or fixed-size shuffled ones
    monitor: str  # metric for checkpointing and early stopping
    patience: int  # epochs without improvement before early stopping
    cls_only_last_layer: bool  # last layer computes [CLS] only (BERT models): same logits, fewer FLOPs
    freeze_embeddings: bool  # embedding tables + their LayerNorm keep their pretrained values (not trained)
    fast_dropout: bool  # dropout masks from 15-bit random integers (fast_dropout.py), not torch's CPU Bernoulli sampler
    precision: Literal["fp32", "bf16"]  # bf16: autocast matmuls to bf16 (fast on CPUs with AMX), weights stay fp32
    layer_lr_decay: float  # encoder layer i below the top trains at lr * layer_lr_decay ** i; 1.0 = one lr
    baseline_weight: float | None  # TF-IDF baseline's blend weight, all tags; null = per tag, tuned on val; 0 = off
    blend_space: Literal["probability", "logit"]  # average the two parts' probabilities or their log-odds


@dataclass(frozen=True)
class BaselineParams:
    word_ngrams: tuple[int, ...]  # (min, max) word n-gram lengths
    char_ngrams: tuple[int, ...]  # (min, max) character n-gram lengths
    word_max_features: int  # most frequent word n-grams kept
    char_max_features: int  # most frequent character n-grams kept
    sublinear_tf: bool  # term frequency tf -> 1 + log(tf)
    C: float  # inverse L2 regularisation strength of each tag's logistic regression
    class_weight: str | None  # "balanced" (reweight by tag rarity) or null


@dataclass(frozen=True)
class EvaluateParams:
    max_tokens_per_batch: int
    bootstrap_samples: int  # resamples for the 95% confidence intervals


@dataclass(frozen=True)
class Params:
    seed: int
    threads: int  # torch threads for train/evaluate; 0 = all cores available to this process
    fetch: FetchParams
    balance_split: SplitParams
    token_stats: TokenStatsParams
    model: ModelParams
    train: TrainParams
    baseline: BaselineParams
    evaluate: EvaluateParams


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate `path`; raise InputError on any unknown, missing or mistyped key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text)
    except OSError as exc:
        raise InputError(path, f"cannot read parameters: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise InputError(path, f"invalid YAML: {getattr(exc, 'problem', exc)}", where) from exc
    if node is None:
        raise InputError(path, "file is empty; expected the pipeline's parameter sections")
    return _build(Params, node, path, "")


# Allowed values of numeric keys, checked on load with the key's line and column, so a bad
# value stops the first stage that reads params.yaml. (Checks that need the model or another
# key, e.g. model.max_length against the model's positions, live where that is known.)
RANGES: dict[str, tuple[typing.Callable[[Any], bool], str]] = {
    "threads": (lambda v: v >= 0, ">= 0 (0 = every core)"),
    "fetch.sample_rows": (lambda v: v >= 100, ">= 100"),
    "balance_split.val_fraction": (lambda v: 0 < v < 1, "in (0, 1)"),
    "balance_split.test_fraction": (lambda v: 0 < v < 1, "in (0, 1)"),
    "balance_split.clean_rows": (lambda v: v is None or v >= 0, ">= 0, or null for all"),
    "model.max_length": (lambda v: v >= 8, ">= 8 tokens"),
    "model.hidden_dropout": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "model.attention_dropout": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "train.epochs": (lambda v: v >= 1, ">= 1"),
    "train.lr": (lambda v: v >= 0, ">= 0 (0 = only the head learns)"),
    "train.head_lr": (lambda v: v > 0, "> 0"),
    "train.pos_weight_power": (lambda v: v >= 0, ">= 0 (0 = off)"),
    "train.weight_decay": (lambda v: v >= 0, ">= 0"),
    "train.warmup_fraction": (lambda v: 0 <= v <= 1, "in [0, 1]"),
    "train.max_tokens_per_batch": (lambda v: v >= 1, ">= 1"),
    "train.max_batch_size": (lambda v: v >= 1, ">= 1"),
    "train.patience": (lambda v: v >= 0, ">= 0"),
    "evaluate.max_tokens_per_batch": (lambda v: v >= 1, ">= 1"),
    # fewer resamples cannot place the ends of a 95% interval (1 gave zero-width intervals)
    "evaluate.bootstrap_samples": (lambda v: v >= 20, ">= 20"),
}


def _check_range(key: str, value: Any, path: Path, node: yaml.Node) -> None:
    if key in RANGES and not RANGES[key][0](value):
        raise InputError(path, f"{key} must be {RANGES[key][1]}, got {value!r}", _where(node))


def _where(node: yaml.Node) -> str:
    return f"line {node.start_mark.line + 1}, column {node.start_mark.column + 1}"


def _build(cls: type, node: yaml.Node, path: Path, prefix: str) -> Any:
    """Construct dataclass `cls` from a YAML mapping node, checking keys and types."""
    label = prefix.rstrip(".") or "top level"
    if not isinstance(node, yaml.MappingNode):
        raise InputError(path, f"{label}: expected a mapping of keys", _where(node))
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    values: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = key_node.value
        if key not in hints:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(names)})"
            raise InputError(path, f"unknown key {prefix + str(key)!r} in {label}{hint}", _where(key_node))
        values[key] = _convert(hints[key], value_node, path, prefix + key)
        _check_range(prefix + key, values[key], path, value_node)
    missing = [n for n in names if n not in values]
    if missing:
        raise InputError(path, f"missing key {prefix}{missing[0]} in {label}", _where(node))
    return cls(**values)


def _convert(hint: Any, node: yaml.Node, path: Path, key: str) -> Any:
    """Convert one YAML value node to the annotated type `hint`."""
    if dataclasses.is_dataclass(hint):
        return _build(hint, node, path, key + ".")
    value = yaml.SafeLoader("").construct_object(node, deep=True)
    optional = isinstance(hint, types.UnionType) and type(None) in typing.get_args(hint)
    if value is None and optional:
        return None
    base = next(a for a in typing.get_args(hint) if a is not type(None)) if optional else hint
    try:
        return _coerce(base, value)
    except (TypeError, ValueError):
        expected = (f"one of {', '.join(map(repr, typing.get_args(base)))}" if typing.get_origin(base) is Literal
                    else getattr(base, "__name__", str(base)))
        raise InputError(path, f"{key}: expected {expected}, got {value!r}", _where(node)) from None


def _coerce(base: Any, value: Any) -> Any:
    if typing.get_origin(base) is Literal:
        if value not in typing.get_args(base):
            raise ValueError
        return value
    if typing.get_origin(base) is tuple:
        if not isinstance(value, list):
            raise TypeError
        (item, _) = typing.get_args(base)
        return tuple(_coerce(item, v) for v in value)
    if base is bool:
        if not isinstance(value, bool):
            raise TypeError
        return value
    if base is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError
        return value
    if base is float:
        # DVC's `-S train.lr=3e-5` writes `3e-05`, which YAML 1.1 reads as a string.
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise TypeError
        return float(value)
    if base is str:
        if not isinstance(value, str):
            raise TypeError
        return value
    raise TypeError(f"unsupported parameter type {base}")
