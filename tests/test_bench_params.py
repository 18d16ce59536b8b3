"""bench/bench_params.py: the interleaved A/B of the train stage's speed params."""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import bench_report


@pytest.mark.slow
def test_params_ab_steps_every_batch_through_both_sides(tiny_model_dir, tmp_path):
    import bench_params

    output = tmp_path / "params_ab.json"
    params = tmp_path / "params.yaml"  # a small token budget, so 24 short comments make several batches
    text = (ROOT / "params.yaml").read_text()
    params.write_text(text.replace("max_tokens_per_batch: 2048  # padded tokens per batch",
                                   "max_tokens_per_batch: 128  # padded tokens per batch"))
    assert params.read_text() != text
    args = ["--params", str(params), "--data", str(tmp_path / "absent.csv"), "--train-comments", "24",
            "--max-length", "64", "--train-model", str(tiny_model_dir), "--threads", "1", "--output", str(output)]
    with pytest.raises(SystemExit, match="within --warmup-steps"):
        bench_params.main([*args, "--steps", "1", "--warmup-steps", "1"])
    every = ["--compare", *bench_report.FLIPPED, "precision"]  # precision too on any CPU (tiny model: fast)
    results = bench_params.main([*args, "--steps", "4", "--warmup-steps", "1", *every])
    assert json.loads(output.read_text()) == results
    assert results["data"]["kind"] == "synthetic"
    assert [row["param"] for row in results["params"]] == [*bench_report.FLIPPED, "precision"]
    for row in results["params"]:
        assert row["steps_timed"] == 3  # 4 batches, the first left out
        assert row["seconds_on"] > 0 and row["seconds_off"] > 0
        assert row["speedup_off_over_on"] == pytest.approx(row["seconds_off"] / row["seconds_on"])


def test_ab_param_builds_one_side_with_the_param_and_one_without(tiny_model_dir, monkeypatch):
    import bench_params

    from toxic_tagger.model.fast_dropout import FastDropout

    seen = []
    monkeypatch.setattr(bench_params, "training_step", lambda module, optimizer, batch: seen.append(module) or 1.0)
    cfg = {"root": str(ROOT), "seed": 0, "train_model": str(tiny_model_dir),
           "train": {"lr": 1e-3, "head_lr": 1e-3, "weight_decay": 0.0, "warmup_fraction": 0.0, "pos_weight_power": 0,
                     "cls_only_last_layer": True, "freeze_embeddings": True, "fast_dropout": True, "layer_lr_decay": 0.5,
                     "precision": "fp32",
                     "dropout": {"hidden_dropout": 0.1, "attention_dropout": 0.0}}}
    row = bench_params.ab_param(cfg, np.zeros((4, 6), dtype=np.float32), [{}, {}, {}], "fast_dropout", 0)
    assert row["steps_timed"] == 3 and len(seen) == 6
    on, off = seen[0], seen[1]  # batch 0: on first; batch 1: off first
    assert seen[2] is off and seen[3] is on
    assert any(isinstance(m, FastDropout) for m in on.model.modules())
    assert not any(isinstance(m, FastDropout) for m in off.model.modules())
    assert on.hparams.freeze_embeddings and off.hparams.freeze_embeddings  # only the one param differs
    assert on.hparams.layer_lr_decay == off.hparams.layer_lr_decay == 0.5  # the train stage's lr decay, both sides
    seen.clear()
    row = bench_params.ab_param(cfg, np.zeros((4, 6), dtype=np.float32), [{}, {}], "precision", 0)
    assert (row["on"], row["off"]) == ("bf16", "fp32")
    assert [m.hparams.precision for m in seen] == ["bf16", "fp32", "fp32", "bf16"]
    assert all(m.hparams.fast_dropout for m in seen)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_params_ab_step_autocasts_forward_as_lightning_does(precision, monkeypatch):
    import bench_params

    weight = torch.ones(2, requires_grad=True)
    autocast_seen = []

    class Module:
        hparams = SimpleNamespace(precision=precision)

        def model_step(self, batch):
            autocast_seen.append(torch.is_autocast_enabled("cpu"))
            return (weight * 2).sum(), None

    optimizer = torch.optim.SGD([weight], lr=0.5)
    clock = iter([10.0, 12.5])  # perf_counter before and after the step
    monkeypatch.setattr(bench_params, "time", SimpleNamespace(perf_counter=lambda: next(clock)))
    assert bench_params.training_step(Module(), optimizer, {}) == 2.5  # the step's seconds on that clock
    assert autocast_seen == [precision == "bf16"]
    assert torch.equal(weight.detach(), torch.zeros(2))  # backward and the step ran: 1 - 0.5 * 2


def test_precision_is_compared_only_where_bf16_is_native_unless_asked(monkeypatch):
    import bench_params

    monkeypatch.setattr(bench_params, "native_bf16", lambda: False)
    assert bench_params.compared(None) == list(bench_report.FLIPPED)
    assert bench_params.compared(["precision"]) == ["precision"]
    monkeypatch.setattr(bench_params, "native_bf16", lambda: True)
    assert bench_params.compared(None) == [*bench_report.FLIPPED, "precision"]
