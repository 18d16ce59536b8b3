"""The OpenVINO prediction path on a tiny random BERT: fp32 matches torch `predict_proba` (order,
truncation, the [CLS]-only last layer), bf16 stays close, the cache is keyed and reused, the
`openvino` runtimes blend like torch, and a missing extra is a one-line error."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest
import torch

from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.model.inference import predict_proba

from toxic_tagger.predict import openvino_runtime as ov_runtime

if importlib.util.find_spec("openvino") is None:  # the 'openvino' extra, part of 'all': CI has it (and refuses skips)
    pytest.skip("openvino is not installed: pip install 'toxic-tagger[openvino]'", allow_module_level=True)
openvino = ov_runtime.import_openvino()

MAX_LENGTH, BUDGET = 32, 96  # small budget: several batches of different padded lengths
TEXTS = ["you are great", "shut up, idiot " * 40, "ok", "thanks for the edit on the article about birds",
         "what a stupid thing to say", "nice " * 25, "I disagree but respect that", "die"]


@pytest.fixture(scope="module")
def torch_side(tiny_model_dir):
    from toxic_tagger.model.pretrained import load_classifier, load_tokenizer

    torch.manual_seed(0)
    return load_classifier(str(tiny_model_dir)).eval(), load_tokenizer(str(tiny_model_dir))


@pytest.fixture(scope="module")
def built(torch_side):
    model, _ = torch_side
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bf16 on a CPU without bf16 units: compiled fp32, with a warning
        return {kind: ov_runtime.build_compiled(model, MAX_LENGTH, kind=kind, threads=1) for kind in ov_runtime.KINDS}


def test_openvino_is_imported_without_its_usage_telemetry():
    import sys

    # (fails if some other module imported openvino plainly first: import it through import_openvino)
    assert sys.modules["openvino.tools.ovc.telemetry_utils"].tm.__name__ == "openvino.tools.ovc.telemetry_stub"
    assert "openvino_telemetry" not in sys.modules  # hidden only while openvino itself was imported


def test_fp32_matches_torch_predict_proba(built, torch_side):
    model, tokenizer = torch_side
    expected = predict_proba(model, tokenizer, TEXTS, MAX_LENGTH, BUDGET, progress=False)
    got = ov_runtime.predict_openvino(built["fp32"], tokenizer, TEXTS, MAX_LENGTH, BUDGET)
    assert got.shape == (len(TEXTS), 6) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert built["fp32"].precision == "f32" and built["fp32"].path is None and built["fp32"].build_seconds > 0


def test_input_order_and_truncation(built, torch_side):
    _, tokenizer = torch_side
    run = lambda texts: ov_runtime.predict_openvino(built["fp32"], tokenizer, texts, MAX_LENGTH, BUDGET)
    forward = run(TEXTS)
    np.testing.assert_allclose(run(TEXTS[::-1])[::-1], forward, atol=1e-5)
    np.testing.assert_allclose(np.vstack([run([t]) for t in TEXTS]), forward, atol=1e-5)
    head = "you are a " * 20  # well over MAX_LENGTH tokens: what follows is cut off
    cut = run([head + "wonderful person", head + "horrible troll"])
    np.testing.assert_allclose(cut[0], cut[1], atol=1e-6)


def test_bf16_stays_close_to_fp32(built, torch_side):
    _, tokenizer = torch_side
    fp32 = ov_runtime.predict_openvino(built["fp32"], tokenizer, TEXTS, MAX_LENGTH, BUDGET)
    bf16 = ov_runtime.predict_openvino(built["bf16"], tokenizer, TEXTS, MAX_LENGTH, BUDGET)
    assert np.abs(bf16 - fp32).max() < 0.02
    assert built["bf16"].precision == ("bf16" if ov_runtime.native_bf16(openvino.Core()) else "f32")


def test_cache_is_keyed_by_weights_and_shared_by_both_kinds(torch_side, tmp_path):
    model, tokenizer = torch_side
    first = ov_runtime.build_compiled(model, MAX_LENGTH, kind="fp32", cache_dir=tmp_path, threads=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bf16 = ov_runtime.build_compiled(model, MAX_LENGTH, kind="bf16", cache_dir=tmp_path, threads=1)
    assert first.path == bf16.path and first.path.parent == tmp_path
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".bin", ".xml"]
    again = ov_runtime.build_compiled(model, MAX_LENGTH, kind="fp32", cache_dir=tmp_path, threads=1)
    np.testing.assert_array_equal(ov_runtime.predict_openvino(first, tokenizer, TEXTS, MAX_LENGTH, BUDGET),
                                  ov_runtime.predict_openvino(again, tokenizer, TEXTS, MAX_LENGTH, BUDGET))
    changed = load_changed_copy(model)
    assert ov_runtime.build_compiled(changed, MAX_LENGTH, cache_dir=tmp_path, threads=1).path != first.path


def load_changed_copy(model):
    import copy

    changed = copy.deepcopy(model)
    with torch.no_grad():
        changed.classifier.bias.add_(0.5)
    return changed


def test_unknown_kind_is_an_error(torch_side):
    with pytest.raises(ToxicTaggerError, match="int4"):
        ov_runtime.build_compiled(torch_side[0], MAX_LENGTH, kind="int4")


def test_openvino_runtimes_blend_like_torch(untrained_export, tmp_path):
    from toxic_tagger.predict.tagger import Tagger

    torch_tagger = Tagger.load(untrained_export, progress=False)
    assert torch_tagger.exported.baseline is not None
    expected = torch_tagger.predict_proba(TEXTS)
    got = Tagger.load(untrained_export, runtime="openvino", onnx_cache=tmp_path).predict_proba(TEXTS)
    np.testing.assert_allclose(got, expected, atol=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bf16 = Tagger.load(untrained_export, runtime="openvino-bf16", onnx_cache=tmp_path).predict_proba(TEXTS)
    assert np.abs(bf16 - expected).max() < 0.02
    assert len(list(tmp_path.glob("*.xml"))) == 1  # the bf16 runtime found the fp32 build in the cache


def test_missing_extra_is_one_line(untrained_export, monkeypatch):
    from toxic_tagger.predict import runtimes
    from toxic_tagger.predict.tagger import Tagger

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "openvino" else real(name, *a))
    with pytest.raises(ToxicTaggerError, match=r"runtime openvino-bf16 needs the 'openvino' extra: pip install"):
        Tagger.load(untrained_export, runtime="openvino-bf16")
    assert "openvino" in runtimes.RUNTIMES and "openvino-bf16" in runtimes.RUNTIMES


def test_predict_command_with_openvino_keeps_rows_and_caches_the_build(untrained_export, tmp_path):
    import pandas as pd
    from conftest import FIXTURE_CSV

    from toxic_tagger import LABELS
    from toxic_tagger.cli import main

    outputs = {}
    for runtime in ("torch", "openvino"):
        out = tmp_path / f"{runtime}.csv"
        main(["predict", "--model", str(untrained_export), "--input", str(FIXTURE_CSV), "--output", str(out),
              "--runtime", runtime, "--onnx-cache", str(tmp_path / "cache"), "--threads", "1"])
        outputs[runtime] = pd.read_csv(out, dtype={"id": str})
    assert list(tmp_path.joinpath("cache").glob("*.xml"))  # kept for the next call
    assert outputs["openvino"]["id"].tolist() == outputs["torch"]["id"].tolist()
    pd.testing.assert_frame_equal(outputs["torch"][list(LABELS)], outputs["openvino"][list(LABELS)], atol=1e-4, rtol=0)
