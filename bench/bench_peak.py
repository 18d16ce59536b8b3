"""The efficiency yardstick measured next to the work it judges.

On this kind of shared cloud CPU the fp32 matmul rate is not one number: in one minute the same
best-of-5 probe reads anywhere from ~100 to ~145 GFLOP/s (and the 2048 probe at the start of one
bench run read 75). A peak taken once at the start and once at the end of a 40-minute run then
judges each part against the machine as it was minutes away from it. `MatchedPeak` instead
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
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from toxic_tagger.flops import matmul_peak


class MatchedPeak:
    """Matmul probes interleaved with timed work, and the time-weighted peak they imply."""

    def __init__(self, sizes: Sequence[int], reps: int,
                 measure: Callable[[tuple[int, ...], int], dict[str, float]] = matmul_peak) -> None:
        self.sizes, self.reps, self._measure = tuple(sizes), reps, measure
        self.probes: list[float] = []  # peak FLOP/s of each probe, in the order taken
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
        self.probe_seconds += time.perf_counter() - started

    def matched(self) -> float | None:
        """Sum(seconds * mean of the bracketing probes) / sum(seconds) over closed spans; None
        when no timed work lies between two probes."""
        total = sum(seconds for seconds, _ in self.spans)
        if total <= 0:
            return None
        return sum(seconds * (self.probes[i] + self.probes[i + 1]) / 2 for seconds, i in self.spans) / total

    def summary(self) -> dict:
        return {"matched_peak_flops_per_s": self.matched(), "peak_probes_flops_per_s": list(self.probes),
                "peak_probe_seconds": self.probe_seconds}


def run_peak(cfg: dict) -> MatchedPeak:
    """A `MatchedPeak` probing with the bench run's sizes and repetitions (`cfg["matmul_sizes"]`,
    `cfg["matmul_reps"]`): the yardstick of one timed part."""
    return MatchedPeak(cfg["matmul_sizes"], cfg["matmul_reps"])
