"""params.yaml is parsed into typed sections; mistakes name the file, line and column."""

import dataclasses
import json
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURE_CSV, ROOT

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


@pytest.mark.parametrize(("old", "new", "message"), [
    ("  truncation: head ", "  truncation: tail #", "model.truncation: expected one of 'head', 'head_tail', got 'tail'"),
    ("  calibration: auto", "  calibration: platt #", "train.calibration: expected one of 'auto', 'none', got 'platt'"),
    ("  refit_on_val: false", "  refit_on_val: 1 #", "train.refit_on_val: expected bool, got 1"),
])
def test_new_choices_are_checked(tmp_path, old, new, message):
    with pytest.raises(InputError, match=message):
        load_params(_write(tmp_path, old, new))


def test_head_tail_needs_room_for_the_tail(tmp_path):
    # max_length 128: [CLS] + 125 head tokens + 1 tail token + [SEP] is the most head_tail can keep
    path = _write(tmp_path, "  truncation: head ", "  truncation: head_tail #")
    path.write_text(path.read_text().replace("  head_tokens: 32", "  head_tokens: 125", 1))
    assert load_params(path).model.head_tokens == 125
    path.write_text(path.read_text().replace("  head_tokens: 125", "  head_tokens: 126", 1))
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith("  head_tokens: 126"))
    with pytest.raises(InputError) as err:
        load_params(path)
    assert str(err.value) == (f"{path}: line {line}, column 16: model.head_tokens 126 must be below "
                              "model.max_length - 2 = 126 under truncation head_tail (the tail keeps the rest)")
    # plain head truncation never reads head_tokens, so the rule does not apply to it
    plain = _write(tmp_path, "  head_tokens: 32", "  head_tokens: 500")
    assert load_params(plain).model.truncation == "head"


def test_refit_on_val_runs_in_one_process(tmp_path):
    path = _write(tmp_path, "  refit_on_val: false", "  refit_on_val: true")
    assert load_params(path).train.refit_on_val is True
    path.write_text(path.read_text().replace("  devices: 1", "  devices: 2", 1))
    with pytest.raises(InputError, match=r"column 17: train.refit_on_val runs in one process; set train.devices"):
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
    ("seed: 42", "seed: -3", "seed must be in [0, 4294967296), got -3"),
    ("  source: sample", "  source: ' '", "fetch.source must be a file, an http(s) URL or `sample`, got ' '"),
    ("  sha256: null", "  sha256: abc", "fetch.sha256 must be 64 hexadecimal digits, or null, got 'abc'"),
    ("  sample_rows: 8000", "  sample_rows: 5", "fetch.sample_rows must be >= 100, got 5"),
    ("  val_fraction: 0.15", "  val_fraction: 1.0", "balance_split.val_fraction must be in (0, 1), got 1.0"),
    ("  test_fraction: 0.15", "  test_fraction: 0", "balance_split.test_fraction must be in (0, 1), got 0.0"),
    ("  max_lengths: [64, 128, 256, 512]", "  max_lengths: [64, 0]",
     "token_stats.max_lengths must be a non-empty list of lengths >= 1, got [64, 0]"),
    ("  max_lengths: [64, 128, 256, 512]", "  max_lengths: []",
     "token_stats.max_lengths must be a non-empty list of lengths >= 1, got []"),
    ("  name: sentence", "  name: '' #", "model.name must be a packaged model id, a local directory or a hub id, got ''"),
    ("  hidden_dropout: 0.1", "  hidden_dropout: 1", "model.hidden_dropout must be in [0, 1), got 1.0"),
    ("  attention_dropout: 0.0", "  attention_dropout: -0.1", "model.attention_dropout must be in [0, 1), got -0.1"),
    ("  head_tokens: 32", "  head_tokens: -1",
     "model.head_tokens must be >= 0 (0 = keep only the last tokens under truncation head_tail), got -1"),
    ("  head_lr: 2.0e-3", "  head_lr: 0", "train.head_lr must be > 0, got 0.0"),
    ("  pos_weight_power: 0.5", "  pos_weight_power: -1", "train.pos_weight_power must be >= 0 (0 = off), got -1.0"),
    ("  weight_decay: 0.01", "  weight_decay: -0.01", "train.weight_decay must be >= 0, got -0.01"),
    ("  max_tokens_per_batch: 2048  # padded tokens per batch;", "  max_tokens_per_batch: 0 #",
     "train.max_tokens_per_batch must be >= 1, got 0"),
    ("  monitor: val/mean_auroc", "  monitor: val/f1", "train.monitor must be one of val/loss, val/mean_auroc, "),
    ("  patience: 2", "  patience: -1", "train.patience must be >= 0, got -1"),
    ("  layer_lr_decay: 1.0", "  layer_lr_decay: 0", "train.layer_lr_decay must be in (0, 1], got 0.0"),
    ("  baseline_weight: null", "  baseline_weight: 1.5",
     "train.baseline_weight must be in [0, 1], or null (tuned per tag on val), got 1.5"),
    ("  baseline_weight: null", "  baseline_weight: -0.2",
     "train.baseline_weight must be in [0, 1], or null (tuned per tag on val), got -0.2"),
    ("  word_ngrams: [1, 2]", "  word_ngrams: [1]", "baseline.word_ngrams must be [min, max] with 1 <= min <= max, got [1]"),
    ("  char_ngrams: [2, 5]", "  char_ngrams: [5, 2]",
     "baseline.char_ngrams must be [min, max] with 1 <= min <= max, got [5, 2]"),
    ("  word_max_features: 50000", "  word_max_features: 0", "baseline.word_max_features must be >= 1, got 0"),
    ("  char_max_features: 100000", "  char_max_features: -5", "baseline.char_max_features must be >= 1, got -5"),
    ("  C: 1.0", "  C: 0", "baseline.C must be > 0, got 0.0"),
    ("  class_weight: balanced", "  class_weight: auto", "baseline.class_weight must be `balanced` or null, got 'auto'"),
    ("  max_tokens_per_batch: 2048  # padded tokens per prediction", "  max_tokens_per_batch: -1 #",
     "evaluate.max_tokens_per_batch must be >= 1, got -1"),
])
def test_out_of_range_values_name_key_line_and_column(tmp_path, old, new, message):
    path = _write(tmp_path, old, new)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith(new))
    with pytest.raises(InputError) as err:
        load_params(path)
    assert str(err.value).startswith(f"{path}: line {line}, column ") and message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "inf", "1e999"])
def test_every_float_is_finite(tmp_path, value):
    path = _write(tmp_path, "  lr: 1.0e-4", f"  lr: {value}")
    with pytest.raises(InputError, match=r"train.lr: expected a finite number"):
        load_params(path)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("  test_fraction: 0.15", "  test_fraction: 0.85",
     "balance_split.val_fraction + test_fraction must be below 1 (train needs rows), got 0.15 + 0.85"),
    ("  max_tokens_per_batch: 2048  # padded tokens per batch;", "  max_tokens_per_batch: 100 #",
     "train.max_tokens_per_batch 100 must be at least model.max_length 128"),
])
def test_rules_between_keys_point_at_the_key(tmp_path, old, new, message):
    path = _write(tmp_path, old, new)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith(new))
    with pytest.raises(InputError) as err:
        load_params(path)
    assert str(err.value) == f"{path}: line {line}, column {len(new.split(':')[0]) + 3}: {message}"


def test_duplicate_keys_are_refused(tmp_path):
    path = _write(tmp_path, "  epochs: 2", "  epochs: 2\n  epochs: 3")
    with pytest.raises(InputError, match=r"line \d+, column 3: duplicate key 'train.epochs'"):
        load_params(path)
    top = tmp_path / "top.yaml"
    top.write_text((ROOT / "params.yaml").read_text() + "seed: 7\n")
    with pytest.raises(InputError, match="duplicate key 'seed'"):
        load_params(top)


def test_python_tags_and_binary_bytes_are_one_line_errors(tmp_path):
    tagged = _write(tmp_path, "  epochs: 2", "  epochs: !!python/object/apply:os.system ['true']")
    with pytest.raises(InputError, match=r"line \d+, column \d+: train.epochs: could not determine a constructor"):
        load_params(tagged)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes((ROOT / "params.yaml").read_bytes().replace(b"  epochs: 2", b"  epochs: \xff\xfe", 1))
    with pytest.raises(InputError, match=r"line \d+: not valid UTF-8 \(byte 0xff\)"):
        load_params(binary)
    control = tmp_path / "control.yaml"
    control.write_text((ROOT / "params.yaml").read_text().replace("  epochs: 2", "  epochs: \x07", 1))
    with pytest.raises(InputError, match="invalid YAML"):
        load_params(control)


def _check(path: Path, positions: int | None = 512):
    from toxic_tagger.config import check_params

    return check_params(path, path.parent, lambda name, root: positions)


def test_check_params_looks_at_the_source_and_the_model(tmp_path):
    from toxic_tagger.checksums import file_sha256

    assert _check(_write(tmp_path, "  max_length: 128", "  max_length: 512")).model.max_length == 512
    path = _write(tmp_path, "  max_length: 128", "  max_length: 512")
    with pytest.raises(InputError, match=r"line \d+, column 15: model.max_length 512 is above the 256 positions of"):
        _check(path, positions=256)
    missing = _write(tmp_path, "  source: sample", "  source: nowhere.csv")
    with pytest.raises(InputError, match=r"line \d+, column 11: fetch.source: no such file .*nowhere.csv"):
        _check(missing)
    source = tmp_path / "comments.csv"
    source.write_bytes(FIXTURE_CSV.read_bytes())
    good = _write(tmp_path, "  source: sample     #", f"  source: comments.csv\n  sha256: {file_sha256(source)}\n#")
    good.write_text(good.read_text().replace("  sha256: null", "", 1))
    assert _check(good).fetch.source == "comments.csv"
    good.write_text(good.read_text().replace(file_sha256(source), "f" * 64))
    with pytest.raises(InputError, match="fetch.sha256 does not match 'comments.csv'"):
        _check(good)


def test_the_model_positions_come_from_its_config(tiny_model_dir):
    from toxic_tagger.errors import ToxicTaggerError
    from toxic_tagger.model.pretrained import max_positions

    assert max_positions(str(tiny_model_dir)) == json.loads((tiny_model_dir / "config.json").read_text())[
        "max_position_embeddings"]
    with pytest.raises(ToxicTaggerError, match="no such model directory"):
        max_positions("./no/such/model")
