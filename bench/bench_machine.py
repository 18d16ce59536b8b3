"""Describe the machine a benchmark ran on: CPU model, cores, threads, memory, load, versions."""

from __future__ import annotations

import os
import platform
import resource
import time
from importlib import metadata
from pathlib import Path

from toxic_tagger.runtime import available_cores

PACKAGES = ("torch", "transformers", "tokenizers", "lightning", "accelerate", "onnxruntime", "openvino", "numpy",
            "psutil")


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The first `model name` in /proc/cpuinfo (Linux); else what `platform` knows."""
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """The vector extensions that decide matmul speed (avx2, avx512*, amx*) among the CPU flags."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return sorted(f for f in flags if f.startswith(("avx", "amx", "fma")))


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def cpu_snapshot() -> dict[str, float]:
    """Wall clock, busy CPU seconds of the whole machine, and CPU seconds of this process and its
    finished children: two snapshots tell how much *other* processes ran meanwhile."""
    import psutil

    times = psutil.cpu_times()
    busy = sum(times) - times.idle - getattr(times, "iowait", 0.0)
    own = sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
              for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return {"wall": time.monotonic(), "busy": busy, "own": own}


def other_processes_cores(before: dict[str, float], after: dict[str, float]) -> float:
    """Average number of cores that other processes kept busy between two snapshots."""
    wall = max(after["wall"] - before["wall"], 1e-9)
    others = (after["busy"] - before["busy"]) - (after["own"] - before["own"])
    return round(max(others, 0.0) / wall, 2)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def describe_machine(threads: int) -> dict:
    """Everything needed to compare this run with another; `threads` as configured (0 = all)."""
    import psutil
    import torch

    return {
        "cpu_model": cpu_model(), "cpu_vector_flags": cpu_flags(),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cores_logical": os.cpu_count(), "cores_physical": psutil.cpu_count(logical=False),
        "cores_available": available_cores(), "torch_threads": threads if threads > 0 else available_cores(),
        "memory_total_mb": round(psutil.virtual_memory().total / 2**20),
        "load_average_start": load_average(), "platform": platform.platform(), "versions": versions(),
    }
