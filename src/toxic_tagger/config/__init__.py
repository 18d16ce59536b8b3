"""Typed, checked view of `params.yaml` (plumbing every room shares).

    load_params(path) -> Params      keys, types, value ranges and rules between keys
    check_params(path, root, ...)    the same plus the rules that need files and the model

schema.py holds the dataclasses, loading.py the YAML reading, rules.py every rule.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from toxic_tagger.config.loading import compose, find_node, load_params, where
from toxic_tagger.config.rules import environment_problems
from toxic_tagger.config.schema import (MONITORS, BaselineParams, EvaluateParams, FetchParams, ModelParams, Params,
                                        SplitParams, TokenStatsParams, TrainParams)
from toxic_tagger.errors import InputError

__all__ = ["MONITORS", "BaselineParams", "EvaluateParams", "FetchParams", "ModelParams", "Params", "SplitParams",
           "TokenStatsParams", "TrainParams", "check_params", "load_params"]


def check_params(path: str | Path, root: Path, model_positions: Callable[[str, Path], int | None]) -> Params:
    """Every rule of rules.py on `path`: raise InputError (file, line, column) on the first broken.
    `root`: the repository relative paths resolve against; `model_positions(name, root)`: the
    model's position table (model/pretrained.py's max_positions), passed in so that this plumbing
    does not import a room."""
    path = Path(path)
    params = load_params(path)
    for key, message in environment_problems(params, root, model_positions):
        raise InputError(path, message, where(find_node(compose(path), key)))
    return params
