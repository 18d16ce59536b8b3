"""params.yaml is parsed into typed sections; mistakes name the file, line and column."""

import dataclasses
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from toxic_tagger.config import load_params
from toxic_tagger.errors import InputError


def test_repository_params_load_typed():
    params = load_params(ROOT / "params.yaml")
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    # Every key of every section arrives with the file's value (YAML lists as tuples), none dropped.
    for name, value in raw.items():
        typed = getattr(params, name)
        if isinstance(value, dict):
            assert dataclasses.asdict(typed) == {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}
        else:
            assert typed == value, name
    assert type(params.train.lr) is float and type(params.token_stats.max_lengths) is tuple


def _write(tmp_path: Path, old: str, new: str) -> Path:
    text = (ROOT / "params.yaml").read_text()
    assert old in text
    path = tmp_path / "params.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_misspelled_key_names_line_column_and_suggestion(tmp_path):
    path = _write(tmp_path, "  lr:", "  lrr:")
    with pytest.raises(InputError) as err:
        load_params(path)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith("  lrr:"))
    message = str(err.value)
    assert str(path) in message and f"line {line}, column 3" in message
    assert "unknown key 'train.lrr' in train" in message and "did you mean 'lr'" in message
    assert "\n" not in message


def test_missing_key_is_named(tmp_path):
    path = _write(tmp_path, "  patience:", "  # patience:")
    with pytest.raises(InputError, match="missing key train.patience"):
        load_params(path)


def test_wrong_type_is_named(tmp_path):
    path = _write(tmp_path, "  epochs:", "  epochs: many #")
    with pytest.raises(InputError, match=r"line \d+, column \d+: train.epochs: expected int, got 'many'"):
        load_params(path)


def test_choice_outside_its_values_is_named(tmp_path):
    path = _write(tmp_path, "  batching:", "  batching: sorted #")
    with pytest.raises(InputError, match=r"train.batching: expected one of 'bucket', 'fixed', got 'sorted'"):
        load_params(path)


def test_dvc_style_float_string_is_accepted(tmp_path):
    # `dvc exp run -S train.lr=3e-5` writes 3e-05, which YAML 1.1 reads as a string.
    text = (ROOT / "params.yaml").read_text()
    start = text.index("  lr:")
    end = text.index("\n", start)
    path = tmp_path / "params.yaml"
    path.write_text(text[:start] + "  lr: 3e-05" + text[end:])
    assert load_params(path).train.lr == pytest.approx(3e-5)


def test_empty_and_invalid_yaml(tmp_path):
    empty = tmp_path / "params.yaml"
    empty.write_text("")
    with pytest.raises(InputError, match="file is empty"):
        load_params(empty)
    empty.write_text("seed: [1,\n")
    with pytest.raises(InputError, match="invalid YAML"):
        load_params(empty)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("  epochs: 2", "  epochs: 0", "train.epochs must be >= 1, got 0"),
    ("  lr: 1.0e-4", "  lr: -1.0e-4", "train.lr must be >= 0 (0 = only the head learns), got -0.0001"),
    ("  max_length: 128", "  max_length: 0", "model.max_length must be >= 8 tokens, got 0"),
    ("  max_batch_size: 64", "  max_batch_size: 0", "train.max_batch_size must be >= 1, got 0"),
    ("  warmup_fraction: 0.2", "  warmup_fraction: 1.5", "train.warmup_fraction must be in [0, 1], got 1.5"),
    ("  clean_rows: 1500", "  clean_rows: -1", "balance_split.clean_rows must be >= 0, or null for all, got -1"),
    ("  bootstrap_samples: 1000", "  bootstrap_samples: 1", "evaluate.bootstrap_samples must be >= 20, got 1"),
    ("threads: 0", "threads: -1", "threads must be >= 0 (0 = every core), got -1"),
])
def test_out_of_range_values_name_key_line_and_column(tmp_path, old, new, message):
    path = _write(tmp_path, old, new)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith(new))
    with pytest.raises(InputError) as err:
        load_params(path)
    assert str(err.value).startswith(f"{path}: line {line}, column ") and str(err.value).endswith(message)
