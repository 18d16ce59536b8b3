"""The Python API (`toxic_tagger.Tagger`) and the streamed batch files of `toxic-tagger predict`,
on an untrained export (no training here: these are fast tests)."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from toxic_tagger import LABELS, TEXT_COLUMN, Tagger
from toxic_tagger.errors import InputError
from toxic_tagger.model.export import load_exported
from toxic_tagger.predict.batch_files import input_chunks
from toxic_tagger.predict.tagger import CommentError
from toxic_tagger.predict.torch_runtime import predict_exported

TEXTS = ["you are an idiot", "thanks for fixing the citation", "ok"]


@pytest.fixture(scope="module")
def tagger(untrained_export):
    return Tagger.load(untrained_export)


def test_predict_proba_is_the_pipelines_scoring_path(tagger, untrained_export):
    expected = predict_exported(load_exported(untrained_export), TEXTS, 2048, progress=False)
    probs = tagger.predict_proba(TEXTS)
    assert probs.shape == (3, 6)
    np.testing.assert_allclose(probs, expected, atol=1e-6)
    # a Series gives the same rows, and order follows the input
    np.testing.assert_allclose(tagger.predict_proba(pd.Series(TEXTS[::-1])), expected[::-1], atol=1e-6)


def test_predict_applies_each_tags_threshold(tagger):
    probs = tagger.predict_proba(TEXTS)
    results = tagger.predict(TEXTS)
    thresholds = np.linspace(0.3, 0.7, 6)  # what the fixture exported
    assert tagger.thresholds == pytest.approx(dict(zip(LABELS, thresholds)))
    for row, result in zip(probs, results):
        assert list(result["probabilities"]) == list(LABELS)
        assert result["tags"] == [label for label, p, t in zip(LABELS, row, thresholds) if p >= t]
        assert result["truncated"] is False


def test_long_text_is_flagged_truncated_and_its_transformer_part_reads_the_head(tagger):
    from toxic_tagger.model.inference import predict_proba

    head = "word " * (tagger.max_length - 2)  # fills max_length with [CLS] and [SEP]
    long = head + "completely different tail " * 50
    first, second = tagger.predict([head, long])
    assert first["truncated"] is False and second["truncated"] is True
    exported = tagger.exported  # the transformer never reads the tail (the TF-IDF part does)
    part = predict_proba(exported.model, exported.tokenizer, [head, long], tagger.max_length, 2048, progress=False)
    np.testing.assert_array_equal(part[0], part[1])


@pytest.mark.parametrize(("texts", "message"), [
    (["fine", "   "], "text 1: empty or whitespace-only"),
    (["fine", 3], "text 1: expected a string, got int"),
    ("one string", "got one string"),
])
def test_bad_texts_are_named(tagger, texts, message):
    with pytest.raises(CommentError, match=message):
        tagger.predict(texts)


def test_metadata_names_labels_thresholds_and_provenance(tagger, tiny_model_dir):
    meta = tagger.metadata()
    assert meta["labels"] == list(LABELS) and meta["runtime"] == "torch"
    assert meta["base_model"] == str(tiny_model_dir) and meta["blend"]["baseline_weight"]["toxic"] == 0.3


def test_unknown_runtime_and_device_are_one_line_errors(untrained_export):
    from toxic_tagger.errors import ToxicTaggerError

    with pytest.raises(ToxicTaggerError, match="runtime 'tensorflow'"):
        Tagger.load(untrained_export, runtime="tensorflow")
    with pytest.raises(ToxicTaggerError, match="device 'nowhere'"):
        Tagger.load(untrained_export, device="nowhere")


def test_csv_is_streamed_in_chunks_keeping_every_column(tmp_path):
    path = tmp_path / "comments.csv.gz"
    frame = pd.DataFrame({"id": [f"{i:03d}" for i in range(10)], TEXT_COLUMN: [f"comment, {i}" for i in range(10)],
                          "source": ["talk"] * 10})
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        frame.to_csv(handle, index=False)
    chunks = list(input_chunks(str(path), [], chunk_rows=4))
    assert [len(c) for c in chunks] == [4, 4, 2]
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), frame.astype(str))


def test_a_bad_row_far_into_the_file_is_named(tmp_path):
    path = tmp_path / "comments.csv"
    lines = ["id,comment_text"] + [f"{i},fine {i}" for i in range(100)] + ["100,hi, there"]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"row 102: 3 fields but the header has 2"):
        list(input_chunks(str(path), [], chunk_rows=8))
    long = tmp_path / "long.csv"
    long.write_text('id,comment_text\n1,"' + "x" * 200_000 + '"\n')  # past the csv module's default field limit
    (chunk,) = input_chunks(str(long), [])
    assert len(chunk[TEXT_COLUMN][0]) == 200_000


def test_blank_comments_are_refused_from_arguments_too():
    with pytest.raises(InputError, match="argument 2: empty comment"):
        list(input_chunks(None, ["fine", " "]))


def test_the_model_card_travels_inside_the_export(untrained_export, tiny_model_dir):
    from huggingface_hub import ModelCard

    card = ModelCard.load(untrained_export / "README.md")
    data = card.data.to_dict()
    assert data["license"] == "apache-2.0" and data["pipeline_tag"] == "text-classification"
    assert "toxicity" in data["tags"] and data.get("base_model") is None  # a local path is no hub id
    assert "Not recorded for this export." in card.text and "Known limits" in card.text
    assert "transformer + TF-IDF ensemble" in card.text  # the fixture blends at 0.3
    assert "- truncation: head, the first tokens" in card.text
    assert "- calibration of the blended score, per tag (chosen on val): toxic none, severe_toxic none" in card.text


def test_the_hub_card_names_each_tags_calibrator_and_the_head_tail_cut(calibrated_export):
    text = (calibrated_export / "README.md").read_text()
    assert "(chosen on val): toxic platt, severe_toxic temperature, obscene isotonic, threat none," in text
    assert "- truncation: head_tail, the first 8 and the last 54 tokens" in text


def test_hub_card_lists_val_scores_and_the_model_index():
    from huggingface_hub import ModelCard

    from toxic_tagger.evaluate.hub_card import hub_card

    meta = {"base_model": "sentence-transformers/all-MiniLM-L6-v2", "data_source": "train.csv", "max_length": 256,
            "thresholds": dict(zip(LABELS, np.linspace(0.3, 0.7, 6))), "blend": {}}
    val = {"mean_auroc": 0.98123, "auroc": np.linspace(0.95, 0.99, 6), "f1": np.linspace(0.4, 0.8, 6)}
    card = ModelCard(hub_card(meta, np.zeros(6), val))
    data = card.data.to_dict()
    assert data["base_model"] == meta["base_model"] and data["datasets"] == ["jigsaw_toxicity_pred"]
    (result,) = data["model-index"][0]["results"]
    assert result["metrics"][0]["value"] == 0.9812
    assert "| identity_hate | 0.9900 | 0.800 | 0.700 |" in card.text
