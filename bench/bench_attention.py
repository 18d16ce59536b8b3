"""Attention's FLOP/s against the matmul peak, per batch length: where the efficiency rows stop.

    make bench-attention                                  # MiniLM's shape: 12 heads of 32
    python bench/bench_attention.py --lengths 32 128 --reps 3    # a quick look

The efficiency rows of `bench.py` credit attention with 4·L·d FLOPs per real token in
prediction and 12·L·d in training, and judge the whole step against the fp32 matmul peak. This
script measures the attention kernel the model runs (`F.scaled_dot_product_attention`, as
transformers' "sdpa" calls it) on batches of the shape the token budget makes: `--tokens` per
batch, so batch = tokens // L comments of length L, `--heads` heads of `--head-dim`. Per length
it times the forward (under `torch.inference_mode`, as prediction runs) and forward + backward
(as training runs), in fp32 and, on a CPU with bf16 units, in bf16 (`--dtypes`), with a matmul
probe of each dtype (`flops.matmul_peak`) right before and after each length; each rate is
divided by the mean of the two probes of its dtype. A rate well under the peak means
attention's share of the time is larger than its share of the credited FLOPs. Writes --output.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "src")]

import torch
import torch.nn.functional as F
from bench_machine import describe_machine
from flops import PREDICTION, TRAINING, matmul_peak

from toxic_tagger.atomic_files import write_json
from toxic_tagger.model.precision import native_bf16
from toxic_tagger.runtime import configure_threads

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--lengths", type=int, nargs="+", default=[32, 64, 128, 256, 512])
    add("--tokens", type=int, default=2048, help="padded tokens per batch (the train stage's default budget)")
    add("--heads", type=int, default=12)
    add("--head-dim", type=int, default=32)
    add("--reps", type=int, default=10, help="calls per timing; the best of 3 timings is kept")
    add("--peak-size", type=int, default=2048, help="n of the (n x n) matmul probe")
    add("--threads", type=int, default=0, help="torch threads (0 = all available cores)")
    add("--dtypes", nargs="+", choices=sorted(DTYPES), default=None,
        help="default: fp32 and bf16 on a CPU with bf16 units, fp32 only elsewhere (emulated bf16 is slow)")
    add("--output", type=Path, default=HERE / "attention.json")
    args = parser.parse_args(argv)
    args.dtypes = args.dtypes or (["fp32", "bf16"] if native_bf16() else ["fp32"])
    return args


def attention_flops(batch: int, heads: int, length: int, head_dim: int, backward: bool) -> int:
    """FLOPs the efficiency rows credit to attention (flops.py's per-token coefficient times L·d)
    for `batch` comments of `length` real tokens: forward only, or forward + backward."""
    per_attention = (TRAINING if backward else PREDICTION)[1]
    return per_attention * length * heads * head_dim * batch * length


def best_seconds(call: Callable[[], object], reps: int) -> float:
    """Best of 3 timings of `reps` calls, per call (after one warm-up call)."""
    call()
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(reps):
            call()
        best = min(best, (time.perf_counter() - started) / reps)
    return best


def time_attention(batch: int, heads: int, length: int, head_dim: int, dtype: torch.dtype, backward: bool,
                   reps: int) -> float:
    """Seconds per sdpa call (forward, or forward + backward) on random q, k, v with an all-real mask."""
    generator = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(batch, heads, length, head_dim, generator=generator, dtype=dtype,
                           requires_grad=backward) for _ in range(3))
    mask = torch.zeros(batch, 1, 1, length, dtype=dtype)  # transformers passes an additive padding mask
    if not backward:
        with torch.inference_mode():
            return best_seconds(lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask), reps)
    grad = torch.randn(batch, heads, length, head_dim, generator=generator, dtype=dtype)
    return best_seconds(lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask).backward(grad), reps)


def probe(size: int, dtypes: list[str]) -> dict[str, float]:
    """Matmul FLOP/s of one (size x size) product in each of `dtypes` (the bench's own probe)."""
    return {name: matmul_peak((size,), reps=5, dtype=DTYPES[name])["peak"] for name in dtypes}


def measure_length(args: argparse.Namespace, length: int) -> dict:
    """One row: attention FLOP/s per dtype and direction, over the matmul probes around them."""
    batch = max(1, args.tokens // length)
    before = probe(args.peak_size, args.dtypes)
    timings = {(name, backward): time_attention(batch, args.heads, length, args.head_dim, DTYPES[name], backward,
                                                args.reps)
               for name in args.dtypes for backward in (False, True)}
    after = probe(args.peak_size, args.dtypes)
    row = {"length": length, "batch": batch}
    for (name, backward), seconds in timings.items():
        key = f"{name}_{'forward_backward' if backward else 'forward'}"
        rate = attention_flops(batch, args.heads, length, args.head_dim, backward) / seconds
        peak = (before[name] + after[name]) / 2
        row[key] = {"seconds": seconds, "flops_per_s": rate, "matmul_peak_flops_per_s": peak,
                    "share_of_peak": rate / peak}
    return row


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    threads = configure_threads(args.threads)
    probe(args.peak_size, args.dtypes)  # untimed: the first probe of a process reads low (thread pool, caches, clocks)
    rows = []
    for length in args.lengths:
        print(f"[bench-attention] length {length} ...", file=sys.stderr, flush=True)
        rows.append(measure_length(args, length))
    results = {"machine": describe_machine(threads), "native_bf16": native_bf16(),
               "settings": {k: v for k, v in vars(args).items() if k != "output"}, "rows": rows}
    write_json(args.output, results)
    print(report(results, args.output))
    return results


def report(results: dict, output: Path) -> str:
    settings = results["settings"]
    names = {"fp32": "fp32", "bf16": "bf16" if results["native_bf16"] else "bf16 EMULATED"}
    dtypes = settings.get("dtypes", ["fp32", "bf16"])  # results written before --dtypes had both
    keys = [f"{dtype}_{direction}" for dtype in dtypes for direction in ("forward", "forward_backward")]
    headers = [f"{names[dtype]} {'fwd+bwd' if direction == 'forward_backward' else 'forward'}"
               for dtype in dtypes for direction in ("forward", "forward_backward")]
    lines = [f"{results['machine']['cpu_model']} | torch threads {results['machine']['torch_threads']} | "
             f"{settings['heads']} heads x {settings['head_dim']}, {settings['tokens']} tokens per batch", "",
             "GFLOP/s of sdpa (share of the matmul peak of the same dtype, probed around each length)",
             "length  batch  " + "  ".join(f"{h:<16}" for h in headers).rstrip()]
    for row in results["rows"]:
        cells = [f"{row[key]['flops_per_s'] / 1e9:6.1f} ({row[key]['share_of_peak']:4.0%})" for key in keys]
        lines.append(f"{row['length']:>6}  {row['batch']:>5}  " + "  ".join(f"{c:<16}" for c in cells).rstrip())
    return "\n".join([*lines, "", f"wrote {output}"])


if __name__ == "__main__":
    main()
