"""The efficiency yardstick measured next to the work it judges.

On a shared cloud CPU the fp32 matmul rate is not one number: the same best-of-5 probe moves
by tens of percent within a minute (docs/performance.md). A peak taken once at the start and
once at the end of a long run then judges each part against the machine as it was minutes
away from it. `MatchedPeak` instead
probes between the timed pieces of a part (training steps; around a prediction call) with the
same `matmul_peak` sizes and repetitions, and weights every timed second by the mean of the
probe just before it and the one just after it. Probe time is never part of the timed work.

    peak = MatchedPeak(sizes=(1024, 2048), reps=5)
    peak.probe()
    for step in steps:
        peak.add(run_timed(step))
        if peak.due(8.0):
            peak.probe()
    peak.probe()
    peak.summary()  # {"matched_peak_flops_per_s": ..., "peak_probes_flops_per_s": [...], ...}

A bf16 part (`run_peak(cfg, bf16=True)`) also probes a bf16 matmul right after each fp32 probe
and reports `matched_bf16_peak_flops_per_s` over the same spans: bf16 FLOPs are cheaper, so the
fp32 peak alone would flatter those paths (against it they can pass 100%).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial

import torch
from flops import matmul_peak


class MatchedPeak:
    """Matmul probes interleaved with timed work, and the time-weighted peak they imply."""

    def __init__(self, sizes: Sequence[int], reps: int,
                 measure: Callable[[tuple[int, ...], int], dict[str, float]] = matmul_peak,
                 measure_bf16: Callable[[tuple[int, ...], int], dict[str, float]] | None = None) -> None:
        """`measure_bf16`: also probe a bf16 matmul at every probe (for a bf16 path's own yardstick)."""
        self.sizes, self.reps, self._measure, self._measure_bf16 = tuple(sizes), reps, measure, measure_bf16
        self.probes: list[float] = []  # peak FLOP/s of each probe, in the order taken
        self.bf16_probes: list[float] = []  # the bf16 probe taken right after each one, if any
        self.spans: list[tuple[float, int]] = []  # (timed seconds, index of the probe before them)
        self.probe_seconds = 0.0  # wall time spent probing (for callers that must leave it out)
        self._pending = 0.0  # timed seconds since the last probe

    def add(self, seconds: float) -> None:
        """Count `seconds` of timed work done since the last probe."""
        self._pending += seconds

    def due(self, every_seconds: float) -> bool:
        """True once at least `every_seconds` of timed work has run since the last probe."""
        return self._pending >= every_seconds

    @property
    def pending(self) -> float:
        return self._pending

    def probe(self) -> None:
        """Measure the matmul peak now; closes the span of timed work since the previous probe."""
        if self._pending > 0 and self.probes:
            self.spans.append((self._pending, len(self.probes) - 1))
        self._pending = 0.0
        started = time.perf_counter()
        self.probes.append(float(self._measure(self.sizes, self.reps)["peak"]))
        if self._measure_bf16 is not None:
            self.bf16_probes.append(float(self._measure_bf16(self.sizes, self.reps)["peak"]))
        self.probe_seconds += time.perf_counter() - started

    def matched(self, probes: list[float] | None = None) -> float | None:
        """Sum(seconds * mean of the bracketing probes) / sum(seconds) over closed spans (of the
        fp32 probes, or of `probes` taken at the same moments); None when no timed work lies
        between two probes."""
        probes = self.probes if probes is None else probes
        total = sum(seconds for seconds, _ in self.spans)
        if total <= 0:
            return None
        return sum(seconds * (probes[i] + probes[i + 1]) / 2 for seconds, i in self.spans) / total

    def summary(self) -> dict:
        bf16 = ({"matched_bf16_peak_flops_per_s": self.matched(self.bf16_probes),
                 "bf16_peak_probes_flops_per_s": list(self.bf16_probes)} if self._measure_bf16 is not None else {})
        return {"matched_peak_flops_per_s": self.matched(), "peak_probes_flops_per_s": list(self.probes),
                "peak_probe_seconds": self.probe_seconds, **bf16}


def run_peak(cfg: dict, bf16: bool = False) -> MatchedPeak:
    """A `MatchedPeak` probing with the bench run's sizes and repetitions (`cfg["matmul_sizes"]`,
    `cfg["matmul_reps"]`): the yardstick of one timed part. `bf16`: a bf16 probe beside each
    fp32 one (the bf16 parts: their FLOPs are judged against both)."""
    bf16_measure = partial(matmul_peak, dtype=torch.bfloat16) if bf16 else None
    return MatchedPeak(cfg["matmul_sizes"], cfg["matmul_reps"], measure_bf16=bf16_measure)
