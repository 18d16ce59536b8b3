"""An export's calibration and truncation travel with it and every prediction path applies them:
the Python API, the CLI, ONNX Runtime and OpenVINO, and the metadata says what they are. The
export is `calibrated_export` (no training: fast tests)."""

from __future__ import annotations

import importlib.util
import json
import shutil

import numpy as np
import pytest

from toxic_tagger import LABELS, Tagger
from toxic_tagger.data.tokens import Truncation
from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.evaluate.calibration import Calibration
from toxic_tagger.model.export import load_exported
from toxic_tagger.predict.torch_runtime import predict_exported

HEAD = "fine words about the article " * 20  # far over max_length (64) on its own
TEXTS = ["you are an idiot", "thanks for the fix", HEAD + "and you are a stupid idiot", HEAD + "thank you, friend"]


@pytest.fixture(scope="module")
def exported(calibrated_export):
    return load_exported(calibrated_export)


def test_the_export_records_its_calibration_and_truncation(calibrated_export, exported):
    meta = json.loads((calibrated_export / "toxic_tagger.json").read_text())
    assert meta["truncation"] == "head_tail" and meta["head_tokens"] == 8
    assert Calibration.from_json(meta["calibration"]) == exported.calibration
    assert [entry["kind"] for entry in meta["calibration"]["tags"]] == [
        "platt", "temperature", "isotonic", "none", "platt", "isotonic"]
    assert exported.truncation == Truncation("head_tail", 8)


def test_prediction_is_the_calibration_of_the_blend(exported):
    raw = predict_exported(exported, TEXTS, 2048, progress=False, calibrated=False)
    final = predict_exported(exported, TEXTS, 2048, progress=False)
    np.testing.assert_array_equal(final, exported.calibration.apply(raw))
    assert np.abs(final - raw)[:, [0, 1, 2, 4, 5]].min() > 1e-4  # every map but the identity moved every score
    np.testing.assert_array_equal(final[:, 3], raw[:, 3])


def test_tagger_and_its_thresholds_use_the_calibrated_score(calibrated_export, exported):
    tagger = Tagger.load(calibrated_export, progress=False)
    probs = tagger.predict_proba(TEXTS)
    np.testing.assert_array_equal(probs, predict_exported(exported, TEXTS, 2048, progress=False))
    for row, result in zip(probs, tagger.predict(TEXTS)):
        assert result["tags"] == [label for label, p, t in zip(LABELS, row, exported.thresholds) if p >= t]
    meta = tagger.metadata()
    assert meta["calibration"] == exported.calibration.to_json()
    assert meta["truncation"] == "head_tail" and meta["head_tokens"] == 8


def test_head_tail_reads_the_end_of_a_long_comment(exported):
    from toxic_tagger.model.inference import predict_proba

    tails = [TEXTS[2], TEXTS[3]]  # the same first 64 tokens, different endings
    head = predict_proba(exported.model, exported.tokenizer, tails, exported.max_length, 2048, progress=False)
    np.testing.assert_array_equal(head[0], head[1])  # head truncation cannot tell them apart
    both = predict_proba(exported.model, exported.tokenizer, tails, exported.max_length, 2048, progress=False,
                         truncation=exported.truncation)
    assert not np.array_equal(both[0], both[1])  # (the tiny random model's scores move only slightly)
    # and the export's own scoring path reads it that way
    from toxic_tagger.model.blend import blend_exported

    scored = predict_exported(exported, tails, 2048, progress=False, calibrated=False)
    np.testing.assert_array_equal(scored, blend_exported(exported, tails, both, calibrated=False))
    assert not np.array_equal(scored, blend_exported(exported, tails, head, calibrated=False))


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_fast_runtimes_score_like_torch(calibrated_export, tmp_path, runtime, monkeypatch):
    if importlib.util.find_spec(runtime) is None:
        pytest.skip(f"{runtime} is not installed")
    module = importlib.import_module(f"toxic_tagger.predict.{'onnx' if runtime == 'onnxruntime' else runtime}_runtime")
    seen = []

    def encode(*args, **kwargs):  # records the truncation the runtime tokenizes with
        seen.append(kwargs.get("truncation"))
        return real(*args, **kwargs)

    real = module.encode
    monkeypatch.setattr(module, "encode", encode)
    expected = Tagger.load(calibrated_export, progress=False).predict_proba(TEXTS)
    got = Tagger.load(calibrated_export, runtime=runtime, onnx_cache=tmp_path).predict_proba(TEXTS)
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert seen == [Truncation("head_tail", 8)]


def test_cli_prints_calibrated_scores(calibrated_export, exported, capsys):
    from conftest import in_process

    code, out, err = in_process(capsys, "predict", "--model", str(calibrated_export), *TEXTS)
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    expected = predict_exported(exported, TEXTS, 2048, progress=False)
    np.testing.assert_allclose([[r[label] for label in LABELS] for r in records], expected, atol=1e-6)
    assert [r["truncated"] for r in records] == [False, False, True, True]


def test_an_export_from_before_calibration_and_truncation_scores_raw(calibrated_export, exported, tmp_path):
    folder = tmp_path / "old"
    shutil.copytree(calibrated_export, folder)
    meta = json.loads((folder / "toxic_tagger.json").read_text())
    for key in ("calibration", "truncation", "head_tokens"):
        meta.pop(key)
    (folder / "toxic_tagger.json").write_text(json.dumps(meta))
    old = load_exported(folder)
    assert old.calibration.is_identity and old.truncation == Truncation("head", 0)
    probs = predict_exported(old, TEXTS, 2048, progress=False)
    assert probs.dtype == np.float32  # the identity leaves the blend's scores exactly as they were


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: m["calibration"]["tags"][2].update(kind="magic"), "calibration tag 'obscene': unknown kind 'magic'"),
    (lambda m: m["calibration"]["tags"][0].update(scale=-1.0), "calibration tag 'toxic': 'scale' must be >= 0"),
    (lambda m: m["calibration"].update(version=9), "calibration: version 9 is not 1"),
    (lambda m: m.update(truncation="middle"), "truncation must be one of head, head_tail, got 'middle'"),
    (lambda m: m.update(head_tokens=62), r"head_tokens 62 must be below max_length - 2 = 62 under head_tail"),
])
def test_a_damaged_calibration_or_truncation_is_one_line_naming_the_file(calibrated_export, tmp_path, change,
                                                                         message):
    folder = tmp_path / "bad"
    shutil.copytree(calibrated_export, folder)
    meta = json.loads((folder / "toxic_tagger.json").read_text())
    change(meta)
    (folder / "toxic_tagger.json").write_text(json.dumps(meta))
    with pytest.raises(ToxicTaggerError) as err:
        load_exported(folder)
    assert str(err.value).startswith(f"{folder / 'toxic_tagger.json'}: ") and "\n" not in str(err.value)
    assert message.replace("\\", "") in str(err.value)
