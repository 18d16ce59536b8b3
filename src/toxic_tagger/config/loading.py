"""params.yaml -> `Params`: keys, types and the rules of rules.py, each error with a place.

`load_params(path)` decodes the file as UTF-8, parses it with PyYAML's safe constructors only
(no `!!python/...` objects), refuses duplicate keys (DVC refuses them too, while a plain YAML
reader silently keeps the last one), unknown, missing and mistyped keys, and values outside the
ranges and cross-field rules of rules.py. Every failure is an `InputError` naming the file and
the line and column of the offending value.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from pathlib import Path
from typing import Any, Literal

import yaml

from toxic_tagger.config import rules
from toxic_tagger.config.schema import Params
from toxic_tagger.errors import InputError


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate `path`; raise InputError on any key, type or rule it breaks."""
    path = Path(path)
    node = compose(path)
    params = _build(Params, node, path, "")
    for key, message in rules.cross_field_problems(params):
        raise InputError(path, message, where(find_node(node, key)))
    return params


def compose(path: Path) -> yaml.Node:
    """The YAML node tree of `path`, after decoding and duplicate-key checks."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read parameters: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(path, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", f"line {line}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = str(getattr(exc, "problem", None) or exc).splitlines()[0]
        raise InputError(path, f"invalid YAML: {problem}", at) from None
    if node is None:
        raise InputError(path, "file is empty; expected the pipeline's parameter sections")
    _refuse_duplicates(node, path, "")
    return node


def _refuse_duplicates(node: yaml.Node, path: Path, prefix: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                raise InputError(path, f"duplicate key {prefix + key!r} (DVC refuses the file too)", where(key_node))
            seen.add(key)
            _refuse_duplicates(value_node, path, f"{prefix}{key}.")
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_duplicates(item, path, prefix)


def where(node: yaml.Node) -> str:
    return f"line {node.start_mark.line + 1}, column {node.start_mark.column + 1}"


def find_node(root: yaml.Node, key: str) -> yaml.Node:
    """The value node of dotted `key` (the root when a part is missing)."""
    node = root
    for part in key.split("."):
        found = [v for k, v in node.value if k.value == part] if isinstance(node, yaml.MappingNode) else []
        if not found:
            return node
        node = found[0]
    return node


def _build(cls: type, node: yaml.Node, path: Path, prefix: str) -> Any:
    """Construct dataclass `cls` from a YAML mapping node, checking keys, types and ranges."""
    label = prefix.rstrip(".") or "top level"
    if not isinstance(node, yaml.MappingNode):
        raise InputError(path, f"{label}: expected a mapping of keys", where(node))
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    values: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = key_node.value
        if key not in hints:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(names)})"
            raise InputError(path, f"unknown key {prefix + str(key)!r} in {label}{hint}", where(key_node))
        values[key] = _convert(hints[key], value_node, path, prefix + key)
        problem = rules.range_problem(prefix + key, values[key])
        if problem:
            raise InputError(path, problem, where(value_node))
    missing = [n for n in names if n not in values]
    if missing:
        raise InputError(path, f"missing key {prefix}{missing[0]} in {label}", where(node))
    return cls(**values)


def _convert(hint: Any, node: yaml.Node, path: Path, key: str) -> Any:
    """Convert one YAML value node to the annotated type `hint`."""
    if dataclasses.is_dataclass(hint):
        return _build(hint, node, path, key + ".")
    try:
        value = yaml.SafeLoader("").construct_object(node, deep=True)
    except yaml.YAMLError as exc:  # e.g. a `!!python/object` tag: safe loading refuses it
        problem = str(getattr(exc, "problem", None) or exc).splitlines()[0]
        raise InputError(path, f"{key}: {problem}", where(node)) from None
    optional = isinstance(hint, types.UnionType) and type(None) in typing.get_args(hint)
    if value is None and optional:
        return None
    base = next(a for a in typing.get_args(hint) if a is not type(None)) if optional else hint
    try:
        return _coerce(base, value)
    except (TypeError, ValueError):
        expected = (f"one of {', '.join(map(repr, typing.get_args(base)))}" if typing.get_origin(base) is Literal
                    else "a finite number" if base is float else getattr(base, "__name__", str(base)))
        raise InputError(path, f"{key}: expected {expected}, got {value!r}", where(node)) from None


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
        number = float(value)
        if not math.isfinite(number):  # .inf / .nan (or "inf" through -S) train nothing useful
            raise ValueError
        return number
    if base is str:
        if not isinstance(value, str):
            raise TypeError
        return value
    raise TypeError(f"unsupported parameter type {base}")
