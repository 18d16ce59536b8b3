"""Training, export and prediction with a tiny random BERT.

Only the training test uses the trained `tiny_export` (slow); prediction reads the
`untrained_export`, and the optimizer tests take one manual step."""

import json

import numpy as np
import pytest
from conftest import FIXTURE_CSV

from toxic_tagger import LABELS, TEXT_COLUMN
from toxic_tagger.data.comments_csv import read_split
from toxic_tagger.model.export import load_exported
from toxic_tagger.model.inference import predict_proba

LONG = "This is a very long comment about the article. " * 120  # > 512 tokens


@pytest.mark.slow
def test_training_writes_best_and_last_and_a_safetensors_export(tiny_export):
    paths, summary, params = tiny_export
    assert sorted(p.name for p in paths.checkpoints.iterdir()) == ["best.ckpt", "last.ckpt", "run.json"]
    assert json.loads((paths.checkpoints / "run.json").read_text())["finished"] is True
    files = {p.name for p in paths.model.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "toxic_tagger.json"} <= files
    assert not any(name.endswith((".bin", ".pt", ".pkl", ".ckpt")) for name in files)
    config = json.loads((paths.model / "config.json").read_text())
    assert [config["id2label"][str(i)] for i in range(6)] == list(LABELS)
    assert config["problem_type"] == "multi_label_classification"
    meta = json.loads((paths.model / "toxic_tagger.json").read_text())
    assert set(meta["thresholds"]) == set(LABELS) and meta["max_length"] == params.model.max_length
    assert summary["threads"] == 1 and summary["epochs_run"] == params.train.epochs
    # train.baseline_weight 0.3 (fixed, not tuned): every tag blends at 0.3, in the summary and the export
    assert summary["baseline_weight"] == 0.3 and set(summary["baseline_weight_per_tag"].values()) == {0.3}
    assert meta["blend"]["baseline_weight"] == dict.fromkeys(LABELS, 0.3) and meta["blend"]["baseline"] == "baseline"


def test_batched_prediction_matches_one_by_one_in_input_order(untrained_export):
    model = load_exported(untrained_export)
    texts = read_split(FIXTURE_CSV)[TEXT_COLUMN].tolist() + [LONG]
    batched = predict_proba(model.model, model.tokenizer, texts, model.max_length, max_tokens=256, progress=False)
    single = np.vstack([predict_proba(model.model, model.tokenizer, [t], model.max_length, 10**6, progress=False)
                        for t in texts])
    assert batched.shape == (len(texts), 6)
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_plain_transformers_pipeline_gives_the_same_probabilities(untrained_export):
    from transformers import pipeline

    model = load_exported(untrained_export)
    texts = ["you idiot", "Thanks for fixing the citation.", LONG]
    ours = predict_proba(model.model, model.tokenizer, texts, model.max_length, 4096, progress=False)
    classify = pipeline("text-classification", model=str(untrained_export), top_k=None, device="cpu")
    theirs = classify(texts, truncation=True)
    for row, scores in zip(ours, theirs):
        by_label = {s["label"]: s["score"] for s in scores}
        np.testing.assert_allclose([by_label[label] for label in LABELS], row, atol=1e-5)


def _one_step(model_dir, freeze_embeddings: bool) -> tuple[set[str], set[str], set[str]]:
    """One manual AdamW step of ToxicClassifier on the tiny BERT: names of (the weights it
    changed, the weights the optimizer holds, the embedding block's weights)."""
    import torch

    from toxic_tagger.model.classifier import ToxicClassifier
    from toxic_tagger.model.pretrained import load_classifier

    torch.manual_seed(0)
    module = ToxicClassifier(load_classifier(str(model_dir)), lr=1e-2, head_lr=1e-2,
                             freeze_embeddings=freeze_embeddings)
    params = dict(module.model.named_parameters())
    before = {name: p.detach().clone() for name, p in params.items()}
    groups = module.parameter_groups()
    optimizer = torch.optim.AdamW(groups, lr=1e-2)
    ids = torch.randint(1000, 2000, (4, 12))
    loss, _ = module.model_step({"input_ids": ids, "attention_mask": torch.ones_like(ids),
                                 "labels": torch.ones(4, 6)})
    loss.backward()
    optimizer.step()
    grouped = {id(p) for group in groups for p in group["params"]}
    changed = {name for name, p in params.items() if not torch.equal(p.detach(), before[name])}
    embeddings = {name for name in params if name.startswith("bert.embeddings.")}
    return changed, {name for name, p in params.items() if id(p) in grouped}, embeddings


def test_freeze_embeddings_trains_everything_but_the_embedding_block(tiny_model_dir):
    changed, optimized, embeddings = _one_step(tiny_model_dir, freeze_embeddings=True)
    assert embeddings and not changed & embeddings  # tables and their LayerNorm untouched
    assert "classifier.weight" in changed and "bert.encoder.layer.0.attention.self.query.weight" in changed
    # Frozen weights are left out of the optimizer (no AdamW state for them).
    assert not optimized & embeddings
    changed, _, _ = _one_step(tiny_model_dir, freeze_embeddings=False)
    assert "bert.embeddings.word_embeddings.weight" in changed


def test_layer_lr_decay_scales_each_encoder_layer_from_the_top(tiny_model_dir):
    from toxic_tagger.model.classifier import ToxicClassifier, layer_depth
    from toxic_tagger.model.pretrained import load_classifier

    assert [layer_depth(f"bert.encoder.layer.{i}.output.dense.weight", 6) for i in (5, 0)] == [0, 5]
    assert layer_depth("bert.pooler.dense.weight", 6) == 0 and layer_depth("bert.embeddings.word_embeddings.weight", 6) == 6
    model = load_classifier(str(tiny_model_dir))
    layers = model.config.num_hidden_layers
    lr_of = lambda groups: {id(p): g["lr"] for g in groups for p in g["params"]}
    flat = ToxicClassifier(model, lr=1e-2, head_lr=5e-2).parameter_groups()
    assert len(flat) == 4 and sorted({g["lr"] for g in flat}) == [1e-2, 5e-2]  # one lr for the encoder
    decayed = lr_of(ToxicClassifier(model, lr=1e-2, head_lr=5e-2, layer_lr_decay=0.5).parameter_groups())
    for name, param in model.named_parameters():
        expected = 5e-2 if name.startswith("classifier.") else 1e-2 * 0.5 ** layer_depth(name, layers)
        assert decayed[id(param)] == pytest.approx(expected), name
    top, bottom = (f"bert.encoder.layer.{i}.attention.self.query.weight" for i in (layers - 1, 0))
    params = dict(model.named_parameters())
    assert decayed[id(params[top])] == pytest.approx(1e-2) and decayed[id(params[bottom])] < 1e-2
