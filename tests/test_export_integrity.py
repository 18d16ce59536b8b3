"""An exported folder is checked on load: files against their recorded sha256, thresholds and
blend weights in [0, 1]; and every score prediction emits lies in [0, 1]."""

import json
import shutil

import numpy as np
import pytest

from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.model.export import load_exported


def copy(untrained_export, tmp_path, name="copy"):
    target = tmp_path / name
    shutil.copytree(untrained_export, target)
    return target


def edit_meta(folder, change):
    meta = json.loads((folder / "toxic_tagger.json").read_text())
    change(meta)
    (folder / "toxic_tagger.json").write_text(json.dumps(meta))


def test_the_export_records_every_file_prediction_reads(untrained_export):
    recorded = json.loads((untrained_export / "toxic_tagger.json").read_text())["integrity"]["sha256"]
    assert {"model.safetensors", "config.json", "tokenizer.json", "baseline/weights.safetensors"} <= set(recorded)
    assert "toxic_tagger.json" not in recorded and "README.md" not in recorded
    load_exported(untrained_export)  # as written: loads


@pytest.mark.parametrize("name", ["model.safetensors", "baseline/weights.safetensors", "tokenizer.json"])
def test_a_file_damaged_in_place_is_refused(untrained_export, tmp_path, name):
    folder = copy(untrained_export, tmp_path)
    data = bytearray((folder / name).read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit, same size: a loader alone would not notice
    (folder / name).write_bytes(bytes(data))
    with pytest.raises(ToxicTaggerError, match=f"{name}: sha256 differs from the one recorded"):
        load_exported(folder)


def test_a_recorded_file_that_went_missing_is_named(untrained_export, tmp_path):
    folder = copy(untrained_export, tmp_path)
    (folder / "tokenizer_config.json").unlink()
    with pytest.raises(ToxicTaggerError, match="tokenizer_config.json: missing, but recorded"):
        load_exported(folder)


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: m["thresholds"].update(toxic=float("nan")), r"thresholds.toxic must be a number in \[0, 1\], got nan"),
    (lambda m: m["thresholds"].update(threat=-0.1), r"thresholds.threat must be a number in \[0, 1\], got -0.1"),
    (lambda m: m["thresholds"].update(insult=True), r"thresholds.insult must be a number in \[0, 1\], got True"),
    (lambda m: m["blend"]["baseline_weight"].update(obscene=1.5),
     r"blend.baseline_weight \(obscene\) must be a number in \[0, 1\], got 1.5"),
    (lambda m: m.update(max_length=0), "'max_length' must be an integer >= 1"),
])
def test_bad_metadata_values_are_refused(untrained_export, tmp_path, change, message):
    folder = copy(untrained_export, tmp_path)
    edit_meta(folder, change)
    with pytest.raises(ToxicTaggerError, match=message):
        load_exported(folder)


def test_an_export_without_a_record_loads_with_a_warning(untrained_export, tmp_path):
    folder = copy(untrained_export, tmp_path)
    edit_meta(folder, lambda m: m.pop("integrity"))
    with pytest.warns(UserWarning, match="no sha256 record"):
        load_exported(folder)


def test_scores_outside_zero_one_stop_prediction(untrained_export):
    from toxic_tagger.model.blend import blend_exported

    exported = load_exported(untrained_export)
    texts = ["fine", "also fine"]
    ok = np.full((2, 6), 0.5)
    assert np.all((blend_exported(exported, texts, ok) >= 0) & (blend_exported(exported, texts, ok) <= 1))
    for bad in (np.full((2, 6), np.nan), np.full((2, 6), 1.7)):
        with pytest.raises(ToxicTaggerError, match=r"outside \[0, 1\] \(or NaN\)"):
            blend_exported(exported, texts, bad)
