"""Load test of `toxic-tagger serve` on 127.0.0.1: micro-batched against one request at a time.

    python bench/bench_serve.py                               # models/toxic-tagger if exported, else a tiny random BERT
    python bench/bench_serve.py --requests 400 --concurrency 16 --texts-per-request 4

Starts the service twice on a free local port (once with micro-batching, once with
--no-batching), and sends each the same fixed number of POST /predict requests from
`--concurrency` threads, each request holding `--texts-per-request` real comments (the sample at
../shared/data, or synthetic ones). The run is bounded: it stops at the request count or after
`--max-seconds`, whichever comes first. Prints requests/s, comments/s, p50/p99 latency, failures
and model calls per side and the batched/unbatched throughput ratio; writes bench/serve.json.
Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "src")]

import numpy as np  # noqa: E402
from bench_machine import describe_machine  # noqa: E402
from bench_stream import sample_texts, tiny_export  # noqa: E402

from toxic_tagger.atomic_files import write_json  # noqa: E402

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_server(model: Path, port: int, *extra: str, timeout: float = 120.0) -> subprocess.Popen:
    """`toxic-tagger serve` in a child process, returned once GET /health answers."""
    command = [sys.executable, "-m", "toxic_tagger.cli", "serve", "--model", str(model), "--host", HOST,
               "--port", str(port), *extra]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited: {process.stderr.read().strip().splitlines()[-1:]}")
        try:
            get(port, "/health")
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"serve did not answer on port {port} within {timeout:.0f} s")


def get(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=10) as response:
        return json.loads(response.read())


def post(port: int, payload: bytes, timeout: float = 120.0) -> tuple[int, dict]:
    """POST /predict; (status, JSON body) for successes and JSON 4xx alike."""
    request = urllib.request.Request(f"http://{HOST}:{port}/predict", data=payload,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def load_test(port: int, bodies: list[bytes], concurrency: int, max_seconds: float) -> dict:
    """Send every body once from `concurrency` threads (stopping at `max_seconds`); latency stats."""
    deadline = time.monotonic() + max_seconds

    def one(body: bytes) -> tuple[float, bool] | None:
        if time.monotonic() > deadline:
            return None
        started = time.perf_counter()
        try:
            status, _ = post(port, body)
        except OSError:
            status = 0
        return time.perf_counter() - started, status == 200

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        done = [r for r in pool.map(one, bodies) if r is not None]
    seconds = time.perf_counter() - started
    latencies = np.array([latency for latency, _ in done])
    texts = sum(len(json.loads(b)["texts"]) for b in bodies[: len(done)])
    return {"requests": len(done), "failures": sum(not ok for _, ok in done), "seconds": round(seconds, 2),
            "requests_per_second": round(len(done) / seconds, 2), "comments_per_second": round(texts / seconds, 1),
            "p50_ms": round(float(np.percentile(latencies, 50)) * 1000, 1),
            "p99_ms": round(float(np.percentile(latencies, 99)) * 1000, 1)}


def bodies_from(texts: list[str], requests: int, per_request: int) -> list[bytes]:
    rng = np.random.default_rng(0)
    return [json.dumps({"texts": [texts[i] for i in rng.integers(0, len(texts), per_request)]}).encode()
            for _ in range(requests)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="exported folder (default: models/toxic-tagger, else a tiny one)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--texts-per-request", type=int, default=2)
    parser.add_argument("--max-seconds", type=float, default=300.0, help="per side")
    parser.add_argument("--output", type=Path, default=HERE / "serve.json")
    args = parser.parse_args(argv)
    texts = [t for t in sample_texts() if t.strip()]
    bodies = bodies_from(texts, args.requests, args.texts_per_request)
    results = {}
    with tempfile.TemporaryDirectory(prefix="toxic-serve-") as tmp:
        model = args.model or (ROOT / "models" / "toxic-tagger")
        if not (model / "toxic_tagger.json").is_file():
            model = tiny_export(Path(tmp) / "model")
        for side, extra in (("micro-batched", ()), ("one at a time", ("--no-batching",))):
            port = free_port()
            server = start_server(model, port, *extra)
            try:
                post(port, bodies[0])  # warm-up, not counted
                results[side] = {**load_test(port, bodies, args.concurrency, args.max_seconds),
                                 "model_calls": get(port, "/metadata")["model_calls"] - 1}
            finally:
                server.terminate()
                server.wait(timeout=30)
    print(f"{'side':<15} {'req':>5} {'fail':>5} {'req/s':>7} {'comments/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'calls':>6}")
    for side, r in results.items():
        print(f"{side:<15} {r['requests']:>5} {r['failures']:>5} {r['requests_per_second']:>7} "
              f"{r['comments_per_second']:>11} {r['p50_ms']:>8} {r['p99_ms']:>8} {r['model_calls']:>6}")
    ratio = results["micro-batched"]["comments_per_second"] / results["one at a time"]["comments_per_second"]
    print(f"micro-batched / one at a time, comments/s: {ratio:.2f}x (concurrency {args.concurrency})")
    write_json(args.output, {"model": str(model if args.model else "default"), "concurrency": args.concurrency,
                             "texts_per_request": args.texts_per_request, "results": results,
                             "batched_vs_unbatched": round(ratio, 3), "machine": describe_machine(0)})


if __name__ == "__main__":
    main()
