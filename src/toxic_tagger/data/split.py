"""The `balance_split` stage's logic: natural train/val/test splits, then a balanced train.

- Rows with identical text (after trimming whitespace) form one group and always land in
  the same split, so no comment is scored on a split that trained on its twin.
- Groups are stratified by their rarest tag, so every tag has positives in every split.
- val and test keep the natural distribution; only train is balanced to all tagged rows
  plus `clean_rows` sampled untagged rows (all of them when fewer exist).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from toxic_tagger import LABELS, TEXT_COLUMN
from toxic_tagger.config import SplitParams
from toxic_tagger.errors import ToxicTaggerError

log = logging.getLogger(__name__)
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Balance:
    requested: int | None  # balance_split.clean_rows (None: all)
    available: int  # untagged rows in the natural train split
    used: int


@dataclass(frozen=True)
class Splits:
    train: pd.DataFrame  # balanced
    val: pd.DataFrame  # natural distribution
    test: pd.DataFrame  # natural distribution
    balance: Balance


def make_splits(table: pd.DataFrame, params: SplitParams, seed: int) -> Splits:
    """Split `table` (validated raw comments) and balance the train part."""
    if table.empty:  # validation refuses such a table; a library caller may still pass one
        raise ToxicTaggerError("balance_split: the table has no rows to split")
    assignment = assign_splits(table, params.val_fraction, params.test_fraction, seed)
    parts = {name: table[assignment == name].reset_index(drop=True) for name in SPLITS}
    _check_every_tag_everywhere(parts)
    train, balance = balance_train(parts["train"], params.clean_rows, seed)
    return Splits(train=train, val=parts["val"], test=parts["test"], balance=balance)


def assign_splits(table: pd.DataFrame, val_fraction: float, test_fraction: float, seed: int) -> np.ndarray:
    """Return an array of "train"/"val"/"test" per row; identical texts share a split."""
    groups, _ = pd.factorize(table[TEXT_COLUMN].str.strip())
    stratum = _group_strata(table, groups)
    rng = np.random.default_rng(seed)
    group_split = np.empty(len(stratum), dtype=object)
    for value in np.unique(stratum):
        members = rng.permutation(np.flatnonzero(stratum == value))
        n_test, n_val = _allocation(len(members), val_fraction, test_fraction)
        group_split[members[:n_test]] = "test"
        group_split[members[n_test : n_test + n_val]] = "val"
        group_split[members[n_test + n_val :]] = "train"
    return group_split[groups]


def _group_strata(table: pd.DataFrame, groups: np.ndarray) -> np.ndarray:
    """Stratum per text group: index of its rarest positive tag, or len(LABELS) if untagged."""
    labels = table.loc[:, list(LABELS)].to_numpy().astype(bool)
    group_labels = np.zeros((groups.max() + 1, len(LABELS)), dtype=bool)
    np.logical_or.at(group_labels, groups, labels)
    by_rarity = np.argsort(labels.sum(axis=0), kind="stable")  # tag indices, rarest first
    ordered = group_labels[:, by_rarity]
    first = ordered.argmax(axis=1)
    return np.where(ordered.any(axis=1), by_rarity[first], len(LABELS))


def _allocation(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    """Groups for (test, val) out of `n`: proportional, at least one each when n >= 3."""
    n_test, n_val = round(n * test_fraction), round(n * val_fraction)
    if n >= 3:
        n_test, n_val = max(n_test, 1), max(n_val, 1)
    return n_test, n_val


def _check_every_tag_everywhere(parts: dict[str, pd.DataFrame]) -> None:
    for label in LABELS:
        counts = {name: int(frame[label].sum()) for name, frame in parts.items()}
        if min(counts.values()) == 0:
            raise ToxicTaggerError(
                f"tag {label!r} has too few positives to appear in every split ({counts}); "
                "use more data or other balance_split fractions"
            )


def balance_train(train: pd.DataFrame, clean_rows: int | None, seed: int) -> tuple[pd.DataFrame, Balance]:
    """Keep every tagged row plus up to `clean_rows` untagged rows sampled with `seed` (None:
    every untagged row, i.e. the natural train split, no warning)."""
    tagged = train.loc[:, list(LABELS)].to_numpy().any(axis=1)
    clean_index = np.flatnonzero(~tagged)
    used = len(clean_index) if clean_rows is None else min(clean_rows, len(clean_index))
    if clean_rows is not None and used < clean_rows:
        log.warning("balance_split: asked for %d clean rows, only %d exist in train; using all of them",
                    clean_rows, len(clean_index))
    chosen = np.random.default_rng(seed).choice(clean_index, size=used, replace=False)
    keep = np.sort(np.concatenate([np.flatnonzero(tagged), chosen]))
    balance = Balance(requested=clean_rows, available=len(clean_index), used=used)
    return train.iloc[keep].reset_index(drop=True), balance


def split_summary(splits: Splits) -> dict:
    """Rows and positives per tag per split, plus the balancing record (for metrics/split.json)."""
    summary: dict = {}
    for name in SPLITS:
        frame: pd.DataFrame = getattr(splits, name)
        summary[name] = {"rows": len(frame), **{label: int(frame[label].sum()) for label in LABELS}}
    summary["balance"] = {
        "clean_rows_requested": splits.balance.requested,
        "clean_rows_available": splits.balance.available,
        "clean_rows_used": splits.balance.used,
        "all_clean_rows_used": int(splits.balance.used == splits.balance.available),
    }
    return summary
