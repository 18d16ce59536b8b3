"""Benchmark helpers: FLOP counting on a tiny BertConfig (hand-computed), int8 quantization
fidelity, and a smoke run of bench/bench.py on a handful of comments (slow: it trains). No
timing assertions."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import bench_report
import bench_text
from flops import (
    ModelSize,
    batch_flops,
    batches_cls_only_skipped_flops,
    batches_flops,
    cls_only_skipped_flops,
    flops_per_token,
    frozen_embeddings_skipped_flops,
    matmul_flops_per_second,
    matmul_peak,
    model_size,
    non_embedding_params,
)
from torch_int8 import quantize_int8

import bench  # bench/bench.py

# Hand count for BertConfig(vocab 100, hidden 32, 2 layers, intermediate 64, 64 positions, 2 types), 6 labels:
#   per layer: Q, K, V 3 x (32*32 + 32) = 3168; attention output 32*32 + 32 = 1056, LayerNorm 64;
#              intermediate 32*64 + 64 = 2112; output 64*32 + 32 = 2080, LayerNorm 64  -> 8544
#   2 layers 17088 + embedding LayerNorm 64 + pooler 1056 + classifier 32*6 + 6 = 198 -> N = 18406
#   embedding tables (not counted): 100*32 + 64*32 + 2*32 = 5312
TINY_N, TINY_TABLES = 18406, 5312


@pytest.fixture(scope="module")
def tiny_classifier():
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64, type_vocab_size=2, num_labels=6)
    torch.manual_seed(0)
    return BertForSequenceClassification(config).eval()


def test_non_embedding_parameters_match_the_hand_count(tiny_classifier):
    assert non_embedding_params(tiny_classifier) == TINY_N
    assert sum(p.numel() for p in tiny_classifier.parameters()) == TINY_N + TINY_TABLES
    assert model_size(tiny_classifier) == ModelSize(TINY_N, 32, 2)


def test_flops_per_real_token_training_and_prediction():
    size = ModelSize(TINY_N, 32, 2)
    # training 6N + 12 L d layers; prediction 2N + 4 L d layers, at padded length L = 10
    assert flops_per_token(size, 10, training=True) == 6 * 18406 + 12 * 10 * 32 * 2 == 118116
    assert flops_per_token(size, 10, training=False) == 2 * 18406 + 4 * 10 * 32 * 2 == 39372
    assert batch_flops(size, real_tokens=15, padded_length=10, training=True) == 15 * 118116


def test_run_flops_count_real_tokens_at_each_batch_padded_length():
    size = ModelSize(TINY_N, 32, 2)
    lengths, batches = [3, 10, 4], [[0, 1], [2]]
    # batch 1: 13 real tokens at L = 10; batch 2: 4 real tokens at L = 4
    expected = 13 * (36812 + 4 * 10 * 64) + 4 * (36812 + 4 * 4 * 64)
    assert batches_flops(size, lengths, batches, training=False) == expected == 663180
    # the tutorial pads every batch to 512: same real tokens, longer attention
    assert batches_flops(size, lengths, batches, training=False, pad_to=16) == 17 * (36812 + 4 * 16 * 64)


def test_cls_only_last_layer_skips_all_but_key_and_value_for_non_cls_tokens():
    size = ModelSize(TINY_N, 32, 2)
    # 10 real tokens in 2 comments at L = 6: 8 non-[CLS] tokens skip 10 d^2 weights (prediction
    # 2 FLOPs each, training 6) and one layer's attention (4 L d, training 12 L d).
    assert cls_only_skipped_flops(size, 10, 2, 6, training=False) == 8 * (2 * 10 * 32 * 32 + 4 * 6 * 32) == 169984
    assert cls_only_skipped_flops(size, 10, 2, 6, training=True) == 8 * (6 * 10 * 32 * 32 + 12 * 6 * 32)
    # over batches: [[0, 1], [2]] of lengths [3, 10, 4] = (13 tokens, 2 comments, L 10) + (4, 1, L 4)
    assert batches_cls_only_skipped_flops(size, [3, 10, 4], [[0, 1], [2]], training=False) == (
        cls_only_skipped_flops(size, 13, 2, 10, training=False) + cls_only_skipped_flops(size, 4, 1, 4, training=False))
    # what is skipped is less than the last layer's share of the credited count
    assert cls_only_skipped_flops(size, 10, 2, 6, training=False) < batch_flops(size, 10, 6, training=False) / 2


def test_frozen_embeddings_skip_the_first_layers_input_gradient_only():
    size = ModelSize(TINY_N, 32, 2)
    # 10 real tokens: the query, key and value input gradients, 2 d^2 FLOPs each per token
    assert frozen_embeddings_skipped_flops(size, 10) == 10 * 3 * 2 * 32 * 32 == 61440
    # a small part of the credited training count (6 N + attention per token)
    assert frozen_embeddings_skipped_flops(size, 10) < batch_flops(size, 10, 6, training=True) / 10


def test_matmul_rate_is_the_best_rep_and_the_peak_the_fastest_size(monkeypatch):
    import flops

    clock = iter([0.0, 0.5, 1.0, 1.25])  # perf_counter around each rep: 0.5 s, then 0.25 s
    monkeypatch.setattr(flops, "time", SimpleNamespace(perf_counter=lambda: next(clock)))
    assert matmul_flops_per_second(16, reps=2) == 2 * 16**3 / 0.25  # 2 n^3 FLOPs in the faster rep
    monkeypatch.setattr(flops, "matmul_flops_per_second", lambda n, reps, dtype: {32: 5.0, 64: 7.0}[n])
    assert matmul_peak((32, 64), reps=1) == {"32": 5.0, "64": 7.0, "peak": 7.0}


def test_int8_quantization_keeps_probabilities_close(tiny_model_dir):
    from toxic_tagger.model.pretrained import load_classifier

    torch.manual_seed(0)
    model = load_classifier(str(tiny_model_dir)).eval()
    quantized = quantize_int8(model)
    assert not any(isinstance(m, torch.nn.Linear) for m in quantized.modules())  # all swapped for int8 ones
    assert isinstance(model.classifier, torch.nn.Linear)  # the original is left untouched
    ids = torch.randint(1000, 20000, (4, 24))
    mask = torch.ones_like(ids)
    mask[2:, 12:] = 0
    with torch.inference_mode():
        fp32 = torch.sigmoid(model(input_ids=ids, attention_mask=mask).logits)
        int8 = torch.sigmoid(quantized(input_ids=ids, attention_mask=mask).logits)
    assert (fp32 - int8).abs().max() < 0.01


def test_table_reports_ratios_and_targets_without_asserting_them():
    rows = [bench_report.asdict(bench_report._speed_row("x/s", 2.0, 10.0, 8)),
            bench_report.asdict(bench_report._speed_row("y/s", 2.0, 3.0, 8)),
            bench_report.asdict(bench_report._efficiency_row("eff", 0.1, 0.9, 0.8))]
    assert [r["ratio"] for r in rows] == [5.0, 1.5, 9.0] and [r["met"] for r in rows] == [False, False, True]
    header, rule, *lines = bench_text.format_table(rows).splitlines()
    assert re.split(r"\s{2,}", header) == ["metric", "tutorial", "toxic-tagger", "ratio", "target", "met"]
    assert set(rule) == {"-"} and len(rule) == len(header)
    # each row's cells are its own values, in the header's columns
    assert [re.split(r"\s{2,}", line) for line in lines] == [
        ["x/s", "2.0", "10.0", "5.00x", ">= 8x", "NO"], ["y/s", "2.0", "3.0", "1.50x", ">= 8x", "NO"],
        ["eff", "10.0%", "90.0%", "9.00x", "toxic-tagger >= 80%", "yes"]]


@pytest.mark.parametrize("param", ["freeze_embeddings", "fast_dropout"])
def test_flip_row_puts_off_left_and_on_right(param):
    on, off = {param: True, "samples_per_s": 12.0}, {param: False, "samples_per_s": 10.0}
    for main, other in ((on, off), (off, on)):
        (row,) = bench_report.flip_rows({"toxic_tagger": main, f"toxic_tagger_{param}_flipped": other}, param)
        assert (row.tutorial, row.toxic_tagger, row.ratio) == (10.0, 12.0, pytest.approx(1.2))
        assert param in row.metric
    assert bench_report.flip_rows({"toxic_tagger": on}, param) == []


def test_onnxruntime_fp32_efficiency_uses_its_own_time_peak_and_executed_share():
    tutorial = {"flops_per_s": 1.0}  # no probes of its own (older results): judged by the run's peak
    ort = {"flops_per_s": 8.5, "executed_flops_share": 0.8, "matched_peak_flops_per_s": 9.0}
    credited, executed, run_peak = bench_report.onnxruntime_efficiency_rows({"tutorial": tutorial, "ort_fp32": ort},
                                                                            peak=10.0)
    assert credited.tutorial == pytest.approx(0.1) and credited.toxic_tagger == pytest.approx(8.5 / 9.0)
    assert credited.met is True and "alongside" in credited.metric
    assert executed.toxic_tagger == pytest.approx(0.8 * 8.5 / 9.0) and executed.met is None
    assert run_peak.toxic_tagger == pytest.approx(0.85) and run_peak.met is None
    assert bench_report.onnxruntime_efficiency_rows({"tutorial": tutorial}, peak=10.0) == []


def scripted_peak(values: list[float], sleep: float = 0.0):
    """A MatchedPeak whose probes return `values` in turn (and take `sleep` seconds each)."""
    import time

    from bench_peak import MatchedPeak

    answers = iter(values)

    def measure(sizes, reps):
        time.sleep(sleep)
        return {"peak": next(answers)}

    return MatchedPeak((64,), 1, measure=measure)


def test_matched_peak_weights_each_timed_second_by_the_probes_around_it():
    peak = scripted_peak([100.0, 120.0, 80.0])
    peak.add(5.0)  # before any probe: no bracket, not counted
    peak.probe()
    assert peak.matched() is None
    peak.add(1.0)
    peak.add(1.0)
    assert peak.due(2.0) and not peak.due(2.5)
    peak.probe()
    peak.add(6.0)
    peak.probe()
    assert peak.spans == [(2.0, 0), (6.0, 1)]
    assert peak.matched() == pytest.approx((2 * 110 + 6 * 100) / 8)
    assert peak.summary()["peak_probes_flops_per_s"] == [100.0, 120.0, 80.0]


def test_bf16_probes_sit_beside_the_fp32_ones_and_weigh_the_same_spans():
    from bench_peak import MatchedPeak

    fp32, bf16 = iter([100.0, 120.0, 80.0]), iter([400.0, 500.0, 300.0])
    peak = MatchedPeak((64,), 1, measure=lambda sizes, reps: {"peak": next(fp32)},
                       measure_bf16=lambda sizes, reps: {"peak": next(bf16)})
    peak.probe()
    peak.add(2.0)
    peak.probe()
    peak.add(6.0)
    peak.probe()
    summary = peak.summary()
    assert summary["matched_peak_flops_per_s"] == pytest.approx((2 * 110 + 6 * 100) / 8)
    assert summary["matched_bf16_peak_flops_per_s"] == pytest.approx((2 * 450 + 6 * 400) / 8)
    assert summary["bf16_peak_probes_flops_per_s"] == [400.0, 500.0, 300.0]
    assert "matched_bf16_peak_flops_per_s" not in scripted_peak([1.0]).summary()  # fp32 parts: no bf16 probes


def test_bf16_efficiency_row_judges_against_both_peaks_without_a_target():
    side = {"flops_per_s": 90.0, "matched_peak_flops_per_s": 100.0, "matched_bf16_peak_flops_per_s": 300.0}
    (row,) = bench_report.bf16_efficiency_rows("train", side)
    assert (row.tutorial, row.toxic_tagger) == (pytest.approx(0.9), pytest.approx(0.3))
    assert row.met is None and row.target == ""
    assert bench_report.bf16_efficiency_rows("train", {"flops_per_s": 90.0, "matched_peak_flops_per_s": 100.0}) == []


def test_step_timer_probes_after_warm_up_and_keeps_probe_time_out_of_gaps():
    import bench_train

    peak = scripted_peak([1.0, 2.0, 3.0, 4.0], sleep=0.05)
    timer = bench_train.StepTimer(peak, warmup_steps=1, probe_seconds=0.0)
    batch = {"attention_mask": torch.ones(2, 3)}
    for index in range(3):
        timer.on_train_batch_start(None, None, batch, index)
        timer.on_train_batch_end(None, None, None, batch, index)
    timer.on_train_end(None, None)
    assert len(peak.probes) == 3  # after the warm-up step, then after each timed step
    assert len(peak.spans) == 2 and all(index == i for i, (_, index) in enumerate(peak.spans))
    assert len(timer.gaps) == 2 and max(timer.gaps) < 0.04  # each probe slept 0.05 s
    assert peak.probe_seconds >= 0.15


@pytest.mark.slow
def test_smoke_run_on_a_handful_of_comments(tiny_model_dir, tmp_path):
    output = tmp_path / "results.json"
    bench.main([
        "--data", str(tmp_path / "absent.csv"), "--train-comments", "8", "--predict-comments", "12",
        "--tutorial-predict-comments", "4", "--tutorial-batch-size", "4", "--train-steps-limit", "2",
        "--max-length", "64", "--train-model", str(tiny_model_dir), "--base-model", "--threads", "1",
        "--matmul-sizes", "64", "--matmul-reps", "1", "--in-process", "--output", str(output),
    ])
    results = json.loads(output.read_text())
    assert results["data"]["kind"] == "synthetic"
    assert results["machine"]["torch_threads"] == 1 and results["machine"]["cpu_model"]
    training = results["training"]
    assert training["tutorial"]["steps_run"] == 2 and training["tutorial"]["padded_tokens"] == 4 * 64
    assert 0 < training["toxic_tagger"]["real_tokens"] <= training["toxic_tagger"]["padded_tokens"]
    # each speed param's side-by-side runs the same batches with that param (only) flipped
    for param, other in (("freeze_embeddings", "fast_dropout"), ("fast_dropout", "freeze_embeddings")):
        flipped = training[f"toxic_tagger_{param}_flipped"]
        assert flipped[param] != training["toxic_tagger"][param]
        assert flipped[other] == training["toxic_tagger"][other]
        assert flipped["real_tokens"] == training["toxic_tagger"]["real_tokens"]
    # the bf16 side trains the same batches; bf16 prediction scores the same comments closely
    assert training["toxic_tagger_bf16"]["precision"] == "bf16" != training["toxic_tagger"]["precision"]
    assert training["toxic_tagger_bf16"]["real_tokens"] == training["toxic_tagger"]["real_tokens"]
    auroc = results["prediction"]["auroc"]
    assert results["prediction"]["bf16"]["comments"] == 12 and auroc["max_abs_prob_diff_bf16_vs_fp32"] < 0.05
    assert any("torch bf16" in m for m in (row["metric"] for row in results["summary"]))
    # the bf16 part probes a bf16 matmul beside each fp32 probe; fp32 parts do not
    assert results["prediction"]["bf16"]["matched_bf16_peak_flops_per_s"] > 0
    assert "matched_bf16_peak_flops_per_s" not in results["prediction"]["fp32"]
    assert any(row["metric"].startswith("predict efficiency, bf16 path") for row in results["summary"])
    # padding to max_length and length-sorted dynamic padding give the same outputs
    assert auroc["max_abs_prob_diff_tutorial_vs_fp32"] < 1e-5
    assert results["prediction"]["tutorial"]["comments"] == 4 and results["prediction"]["fp32"]["comments"] == 12
    assert "probs" not in results["prediction"]["fp32"]
    for side in (training["tutorial"], results["prediction"]["tutorial"], results["prediction"]["fp32"]):
        assert len(side["peak_probes_flops_per_s"]) >= 2 and side["matched_peak_flops_per_s"] > 0
    # 8 short comments are one bucketed batch: only the warm-up step ran, nothing to bracket
    assert training["toxic_tagger"]["steps_run"] == 1 and training["toxic_tagger"]["matched_peak_flops_per_s"] is None
    metrics = [row["metric"] for row in results["summary"]]
    assert any(m.startswith("train samples/s") for m in metrics) and any("AUROC" in m for m in metrics)
    assert any("RANDOM head" in note for note in results["notes"])


def test_child_process_reports_its_own_peak_memory(tiny_model_dir, tmp_path):
    import psutil

    comments = {"predict": {"texts": ["you are great", "shut up, idiot"], "labels": [[0] * 6, [1, 0, 0, 0, 1, 0]]}}
    (tmp_path / "comments.json").write_text(json.dumps(comments))
    cfg = {"threads": 1, "comments": str(tmp_path / "comments.json"), "train_model": str(tiny_model_dir),
           "root": str(ROOT), "max_length": 5}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    subprocess.run([sys.executable, str(ROOT / "bench" / "bench_child.py"), "tokenize", str(tmp_path / "config.json"),
                    str(tmp_path / "out.json")], check=True, capture_output=True)
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["comments"] == 2
    # MiB (ru_maxrss is KiB on Linux): more than a bare interpreter, less than the machine has
    assert 50 < result["peak_rss_mb"] < psutil.virtual_memory().total / 2**20
    # [CLS] you are great [SEP] is 5 tokens, [CLS] shut up , idiot [SEP] 6: one of 2 is over max_length 5
    assert result["token_length_percentiles"]["p50"] == 5.5 and result["share_longer_than_max_length"] == 0.5
    for way in ("per_item_padded", "per_item_unpadded", "batch"):
        assert result[way]["comments_per_s"] * result[way]["seconds"] == pytest.approx(2)
