"""bench/bench_peers.py (toxic-tagger vs the Hugging Face Trainer and transformers.pipeline): the
rows, targets and GAP lines on hand-made results, the params overrides, and a smoke run of the
quick mode's parts on the tiny random BERT (fast: a few seconds of training on each side, then
the pipeline and `toxic-tagger predict` as whole processes). No timing assertions."""

from __future__ import annotations

import json
import re
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import bench_peers
import peers_report


def training_side(samples_per_s: float, auroc: float, phases: dict) -> dict:
    samples = 100
    return {"samples": samples, "samples_per_s": samples_per_s, "real_tokens_per_s": 10 * samples_per_s,
            "samples_per_s_incl_validation": samples_per_s / 2, "val_mean_auroc": auroc, "peak_rss_mb": 1000.0,
            "phases": {name: seconds * samples for name, seconds in phases.items()}}


def test_a_missed_train_target_fails_its_row_and_names_the_phase_that_falls_short():
    # per sample: the Trainer 1 + 2 + 1 ms (+ validation, left out), toxic-tagger 0.4 + 1.6 + 0.1 ms:
    # 1.9x overall; backward (1.6 > 2 / 2) is what keeps it under 2x.
    peer = training_side(10.0, 0.95, {"forward": 1e-3, "backward": 2e-3, "optimizer": 1e-3, "validation": 9e-3})
    ours = training_side(19.0, 0.951, {"forward": 4e-4, "backward": 1.6e-3, "optimizer": 1e-4, "validation": 0.0})
    gaps: list[str] = []
    rows = peers_report.training_rows({"fp32": {"trainer": peer, "toxic_tagger": ours}}, 2, gaps)
    speed, tokens, _, auroc, rss = rows
    assert (speed.ratio, speed.target, speed.met) == (pytest.approx(1.9), ">= 2x", False)
    assert tokens.met is None and rss.unit == "MiB" and rss.met is None
    assert auroc.ratio == pytest.approx(0.001) and auroc.met is True and "2 epoch(s)" in auroc.metric
    (gap,) = gaps
    assert gap.startswith("GAP train samples/s, fp32") and "backward 2.00 | 1.60" in gap
    assert re.search(r"Over 1/2 of the Trainer's time: backward \+0\.60 ms$", gap)
    assert "validation 9.00" not in gap  # samples/s leave validation out
    # a met target: no gap line
    gaps.clear()
    faster = training_side(30.0, 0.95, {"forward": 1e-4, "backward": 1e-4, "optimizer": 1e-4, "validation": 0.0})
    assert peers_report.training_rows({"bf16": {"trainer": peer, "toxic_tagger": faster}}, 2, gaps)[0].met is True
    assert gaps == []


def test_auroc_rows_parity_and_no_worse():
    assert peers_report.auroc_row("x", 0.9, 0.9025, parity=True).met is False
    assert peers_report.auroc_row("x", 0.9, 0.9015, parity=True).met is True
    assert peers_report.auroc_row("x", 0.9, 0.95, parity=False).met is True  # better is fine
    assert peers_report.auroc_row("x", 0.9, 0.897, parity=False).met is False
    assert peers_report.auroc_row("x", None, 0.9, parity=True).met is None


def test_the_fastest_runtime_is_chosen_among_those_at_auroc_parity():
    runtimes = {"torch": {"comments_per_s": 10.0, "auroc_transformer": 0.9},
                "openvino-bf16": {"comments_per_s": 90.0, "auroc_transformer": 0.895},  # off by 0.005
                "onnxruntime": {"comments_per_s": 20.0, "auroc_transformer": 0.901}}
    assert bench_peers.fastest_runtime(runtimes, 0.9) == "onnxruntime"
    assert bench_peers.fastest_runtime(runtimes, None) == "openvino-bf16"  # no labels to judge by


def test_params_overrides_are_validated_like_params_yaml(tmp_path):
    args = bench_peers.parse_args(["-S", "train.lr=3e-5", "-S", "balance_split.clean_rows=null", "--epochs", "3"])
    params, path = bench_peers.bench_params_file(args, tmp_path)
    assert (params.train.lr, params.balance_split.clean_rows, params.train.epochs) == (3e-5, None, 3)
    assert path.parent == tmp_path and args.predict_comments == 1000 and not args.quick
    with pytest.raises(SystemExit, match="SECTION.KEY=VALUE"):
        bench_peers.bench_params_file(bench_peers.parse_args(["-S", "nosuch.key=1"]), tmp_path)
    with pytest.raises(Exception, match="train.lr"):
        bench_peers.bench_params_file(bench_peers.parse_args(["-S", "train.lr=-1"]), tmp_path)
    quick = bench_peers.parse_args(["--quick", "--epochs", "2"])
    assert (quick.epochs, quick.train_comments, quick.precisions) == (2, 96, ["fp32"])  # given options win


@pytest.mark.slow  # it trains both sides (a Trainer and toxic-tagger) for an epoch
@pytest.mark.filterwarnings("ignore:The number of training batches")
def test_quick_mode_parts_on_the_tiny_bert(tiny_model_dir, untrained_export, tmp_path, capsys):
    output = tmp_path / "peers.json"
    results = bench_peers.main([
        "--quick", "--in-process", "--data", str(tmp_path / "absent.csv"), "-S", f"model.name={tiny_model_dir}",
        "-S", "fetch.sample_rows=400", "-S", "balance_split.clean_rows=null", "--train-comments", "24",
        "--val-comments", "48", "--predict-comments", "24",
        "--max-length", "32", "--runtimes", "torch", "openvino", "--model", str(untrained_export), "--threads", "1",
        "--output", str(output)])
    saved = json.loads(output.read_text())
    assert saved["summary"] == json.loads(json.dumps(results["summary"]))
    assert saved["data"]["kind"] == "synthetic" and saved["data"]["train_comments"] == 24
    assert saved["machine"]["cpu_model"] and saved["settings"]["native_bf16"] in (True, False)
    assert saved["settings"]["trainer_training"]["set"]["per_device_train_batch_size"] == 32
    for side in ("trainer", "toxic_tagger"):  # the same comments and epochs on both sides
        trained = saved["training"]["fp32"][side]
        assert trained["samples"] == 24 and len(trained["val_mean_auroc_per_epoch"]) == 1
        assert 0 <= trained["val_mean_auroc"] <= 1
        assert set(trained["phases"]) == {"forward", "backward", "optimizer", "validation", "other"}
        assert trained["samples_per_s"] > 0 and trained["peak_rss_mb"] > 0
    arguments = saved["training"]["fp32"]["trainer"]["training_arguments"]
    assert arguments["train_sampling_strategy"] == "group_by_length" and arguments["eval_strategy"] == "epoch"
    prediction = saved["prediction"]
    assert prediction["fastest_runtime"] in ("torch", "openvino")
    assert set(prediction["whole_process"]) == {"pipeline", "torch", prediction["fastest_runtime"]}
    assert prediction["runtimes"]["torch"]["max_abs_prob_diff_vs_pipeline"] < 1e-4  # same model, same maths
    assert prediction["runtimes"]["torch"]["blended"] and prediction["pipeline"]["comments"] == 24
    auroc = prediction["auroc"]
    assert auroc["whole_process"]["torch"] == pytest.approx(auroc["runtimes"]["torch"]["final"], abs=1e-5)
    header, rule, *lines = peers_report.format_table(saved["summary"], left="peer", left_key="peer").splitlines()
    assert re.split(r"\s{2,}", header) == ["metric", "peer", "toxic-tagger", "ratio", "target", "met"]
    metrics = [row["metric"] for row in saved["summary"]]
    assert metrics[0] == "train samples/s, fp32 (validation left out)"
    assert any(m.startswith("predict comments/s, whole process") for m in metrics)
    assert all(row["met"] in (True, False, None) for row in saved["summary"])
    assert all(line.startswith("GAP ") for line in saved["gaps"])
    printed = capsys.readouterr().out
    assert "train samples/s, fp32" in printed and str(output) in printed
