"""bench/bench_attention.py: attention FLOP/s per batch length against the matmul probes."""

from __future__ import annotations

import json
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import bench_attention


def test_credited_flops_match_the_bench_formula_per_token():
    # 4·L·d per real token forward and 12·L·d with the backward (d = heads x head_dim), as flops.py credits
    batch, heads, length, head_dim = 3, 4, 10, 8
    tokens, d = batch * length, heads * head_dim
    assert bench_attention.attention_flops(batch, heads, length, head_dim, backward=False) == 4 * length * d * tokens
    assert bench_attention.attention_flops(batch, heads, length, head_dim, backward=True) == 12 * length * d * tokens


def test_run_writes_a_row_per_length_with_both_dtypes_and_directions(tmp_path):
    output = tmp_path / "attention.json"
    results = bench_attention.main(["--lengths", "8", "16", "--tokens", "32", "--heads", "2", "--head-dim", "8",
                                    "--reps", "1", "--peak-size", "64", "--threads", "1", "--dtypes", "fp32", "bf16",
                                    "--output", str(output)])
    assert json.loads(output.read_text()) == results
    assert [(row["length"], row["batch"]) for row in results["rows"]] == [(8, 4), (16, 2)]
    for row in results["rows"]:
        length, tokens, d = row["length"], row["length"] * row["batch"], 2 * 8  # d = heads x head_dim
        for key in ("fp32_forward", "fp32_forward_backward", "bf16_forward", "bf16_forward_backward"):
            cell = row[key]
            # each rate is the hand count of its own batch and direction over its own time
            per_token = 12 if key.endswith("backward") else 4
            assert cell["flops_per_s"] * cell["seconds"] == pytest.approx(per_token * length * d * tokens)
            assert cell["share_of_peak"] == pytest.approx(cell["flops_per_s"] / cell["matmul_peak_flops_per_s"])


def test_fp32_only_when_asked(tmp_path):
    results = bench_attention.main(["--lengths", "8", "--tokens", "16", "--heads", "1", "--head-dim", "8",
                                    "--reps", "1", "--peak-size", "32", "--threads", "1", "--dtypes", "fp32",
                                    "--output", str(tmp_path / "a.json")])
    (row,) = results["rows"]
    assert {key for key in row if key.endswith(("forward", "backward"))} == {"fp32_forward", "fp32_forward_backward"}
    assert "bf16" not in bench_attention.report(results, tmp_path / "a.json")


def test_backward_timing_runs_the_backward(monkeypatch):
    calls = []
    monkeypatch.setattr(bench_attention, "best_seconds", lambda call, reps: calls.append(call()) or 1.0)
    bench_attention.time_attention(2, 1, 4, 8, bench_attention.DTYPES["fp32"], backward=True, reps=1)
    bench_attention.time_attention(2, 1, 4, 8, bench_attention.DTYPES["fp32"], backward=False, reps=1)
    assert calls[0] is None  # .backward() returns None: the timed call is forward + backward
    assert calls[1].shape == (2, 1, 4, 8)  # forward only: the attention output
