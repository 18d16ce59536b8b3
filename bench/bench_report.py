"""Turn the measured parts into side-by-side rows (tutorial, toxic-tagger, ratio, target);
bench_text.py prints them with the notes. Targets come from the "Performance" issue; they are
reported (`met`: true / false), never asserted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Row:
    metric: str
    tutorial: float | None
    toxic_tagger: float | None
    ratio: float | None  # toxic_tagger / tutorial (a difference for the AUROC row)
    target: str
    met: bool | None
    unit: str = ""  # how to print the two values: "", "%", "MiB", "auroc"


def _ratio(new: float | None, old: float | None) -> float | None:
    return new / old if new is not None and old else None


def _speed_row(metric: str, old: float, new: float, minimum: float | None = None) -> Row:
    ratio = _ratio(new, old)
    target = f">= {minimum:g}x" if minimum else ""
    return Row(metric, old, new, ratio, target, None if minimum is None or ratio is None else ratio >= minimum)


def _efficiency_row(metric: str, old: float, new: float, minimum: float | None) -> Row:
    """Two efficiencies (fractions of a matmul peak) side by side; a target only with `minimum`."""
    target = f"toxic-tagger >= {minimum:.0%}" if minimum is not None else ""
    return Row(metric, old, new, _ratio(new, old), target, None if minimum is None else new >= minimum, "%")


def yardstick(side: dict, peak: float) -> float:
    """The matmul peak a side's efficiency is judged against: the one probed alongside that
    part (bench_peak.MatchedPeak), else (results written before the probes existed) the run's."""
    return side.get("matched_peak_flops_per_s") or peak


def _efficiency_rows(metric: str, old: dict, new: dict, peak: float, executed_metric: str | None = None) -> list[Row]:
    """Credited efficiency against each side's own probed peak (target 80%); the same on the
    FLOPs each side really ran (the [CLS]-only last layer skips some credited ones); and credited
    against `peak`, the best of the run's first and last probes (the earlier yardstick, no target)."""
    executed_metric = executed_metric or f"{metric} on executed FLOPs ([CLS]-only last layer)"
    matched = lambda side: side["flops_per_s"] / yardstick(side, peak)
    executed = lambda side: matched(side) * side.get("executed_flops_share", 1.0)
    return [_efficiency_row(f"{metric} vs matmul peak probed alongside", matched(old), matched(new), 0.80),
            _efficiency_row(executed_metric, executed(old), executed(new), None),
            _efficiency_row(f"{metric} vs run's start/end matmul peak", old["flops_per_s"] / peak,
                            new["flops_per_s"] / peak, None)]


def training_rows(training: dict, peak: float) -> list[Row]:
    old, new = training["tutorial"], training["toxic_tagger"]
    return [
        _speed_row("train samples/s (timed steps)", old["samples_per_s"], new["samples_per_s"], 8),
        _speed_row("train real tokens/s (timed steps)", old["real_tokens_per_s"], new["real_tokens_per_s"]),
        _speed_row("train samples/s (fit, incl. data)", old["samples_per_s_end_to_end"],
                   new["samples_per_s_end_to_end"]),
        *_efficiency_rows("train efficiency (real-token FLOP/s)", old, new, peak,
                          "train efficiency on executed FLOPs ([CLS]-only last layer, frozen embeddings)"),
        Row("train peak RSS", old["peak_rss_mb"], new["peak_rss_mb"], _ratio(new["peak_rss_mb"], old["peak_rss_mb"]),
            "", None, "MiB"),
        *(row for param in FLIPPED for row in flip_rows(training, param)),
        *bf16_training_rows(training),
    ]


# Boolean speed params of the train stage that the bench also runs the other way round (each a
# part of its own, train_toxic_tagger_<param>_flipped) for a side-by-side row.
FLIPPED = ("freeze_embeddings", "fast_dropout")


def flip_rows(training: dict, param: str) -> list[Row]:
    """toxic-tagger's own path with boolean `train.<param>` off (left column) and on (right):
    samples/s over the same batches. Empty when the bench did not run both."""
    other = training.get(f"toxic_tagger_{param}_flipped")
    if not other:
        return []
    main = training["toxic_tagger"]
    off, on = (other, main) if main.get(param) else (main, other)
    return [_speed_row(f"train samples/s, toxic-tagger: {param} off | on", off["samples_per_s"],
                       on["samples_per_s"])]


def bf16_training_rows(training: dict) -> list[Row]:
    """toxic-tagger's own path at its `train.precision` (left) and in bf16 (right): samples/s
    over the same batches. Empty when the bench did not run bf16 (older results)."""
    other = training.get("toxic_tagger_bf16")
    if not other:
        return []
    main = training["toxic_tagger"]
    return [_speed_row(f"train samples/s, toxic-tagger: precision {main.get('precision', 'fp32')} | bf16"
                       f"{_emulated(other)}", main["samples_per_s"], other["samples_per_s"]),
            *bf16_efficiency_rows("train", other)]


def bf16_efficiency_rows(what: str, side: dict) -> list[Row]:
    """A bf16 path's credited FLOP/s over the fp32 matmul peak probed alongside (left) and over
    the bf16 peak probed at the same moments (right). No target: the 80% one is about fp32, and
    bf16 FLOPs are cheaper ones (the left can pass 100%). Empty for results without bf16 probes."""
    bf16_peak = side.get("matched_bf16_peak_flops_per_s")
    if not bf16_peak:
        return []
    return [_efficiency_row(f"{what} efficiency, bf16 path: vs fp32 matmul peak (left) | vs bf16 matmul peak (right), "
                            "both probed alongside", side["flops_per_s"] / side["matched_peak_flops_per_s"],
                            side["flops_per_s"] / bf16_peak, None)]


def _emulated(side: dict) -> str:
    return "" if side.get("native_bf16", True) else " (EMULATED: this CPU has no bf16 units)"


def bf16_prediction_rows(prediction: dict) -> list[Row]:
    """torch under bf16 autocast vs the tutorial, its mean AUROC vs fp32 on the same comments, and
    its efficiency against both peaks (absent from older results; no 80% target: bf16 FLOPs are
    cheaper ones)."""
    if "bf16" not in prediction:
        return []
    auroc = prediction["auroc"]
    return [_speed_row(f"predict comments/s torch bf16{_emulated(prediction['bf16'])}",
                       prediction["tutorial"]["comments_per_s"], prediction["bf16"]["comments_per_s"], 12),
            _auroc_row("mean AUROC fp32 -> torch bf16 (ratio col: difference)", auroc["fp32_mean"],
                       auroc.get("bf16_mean")),
            *bf16_efficiency_rows("predict", prediction["bf16"])]


def prediction_rows(prediction: dict, peak: float) -> list[Row]:
    old, fp32, int8, auroc = prediction["tutorial"], prediction["fp32"], prediction["int8"], prediction["auroc"]
    return [
        _speed_row("predict comments/s fp32", old["comments_per_s"], fp32["comments_per_s"], 6),
        _speed_row("predict comments/s torch int8", old["comments_per_s"], int8["comments_per_s"], 12),
        *onnxruntime_speed_rows(prediction),
        *bf16_prediction_rows(prediction),
        *_efficiency_rows("predict efficiency fp32", old, fp32, peak),
        *onnxruntime_efficiency_rows(prediction, peak),
        _auroc_row("mean AUROC fp32 -> torch int8 (ratio col: difference)", auroc["fp32_mean"], auroc["int8_mean"]),
        *onnxruntime_auroc_rows(prediction),
        Row("predict peak RSS (tutorial vs fp32)", old["peak_rss_mb"], fp32["peak_rss_mb"],
            _ratio(fp32["peak_rss_mb"], old["peak_rss_mb"]), "", None, "MiB"),
        Row("predict peak RSS (tutorial vs int8)", old["peak_rss_mb"], int8["peak_rss_mb"],
            _ratio(int8["peak_rss_mb"], old["peak_rss_mb"]), "", None, "MiB"),
        *[Row(f"predict peak RSS (tutorial vs {label.split(' (')[0]})", old["peak_rss_mb"], prediction[key]["peak_rss_mb"],
              _ratio(prediction[key]["peak_rss_mb"], old["peak_rss_mb"]), "", None, "MiB")
          for key, label, _ in ONNXRUNTIME_PATHS if key in prediction],
    ]


# ONNX Runtime paths (toxic_tagger.predict.onnx_runtime): prediction key, label, speed-up target.
ONNXRUNTIME_PATHS = (("ort_fp32", "onnxruntime fp32", 6), ("ort_int8", "onnxruntime int8 (fast path)", 12))


def _auroc_row(metric: str, fp32_mean: float | None, other_mean: float | None) -> Row:
    delta = None if fp32_mean is None or other_mean is None else other_mean - fp32_mean
    return Row(metric, fp32_mean, other_mean, delta, "|diff| <= 0.002",
               None if delta is None else abs(delta) <= 0.002, "auroc")


def onnxruntime_speed_rows(prediction: dict) -> list[Row]:
    """Tutorial vs each ONNX Runtime path that was measured (absent from older results)."""
    old = prediction["tutorial"]["comments_per_s"]
    return [_speed_row(f"predict comments/s {label}", old, prediction[key]["comments_per_s"], target)
            for key, label, target in ONNXRUNTIME_PATHS if key in prediction]


def onnxruntime_efficiency_rows(prediction: dict, peak: float) -> list[Row]:
    """Efficiency of the ONNX Runtime fp32 path (fp32 arithmetic, so the same yardstick as torch
    fp32; the int8 path is left out: its matmuls are not fp32 FLOPs)."""
    if "ort_fp32" not in prediction:
        return []
    return _efficiency_rows("predict efficiency onnxruntime fp32", prediction["tutorial"], prediction["ort_fp32"], peak)


def onnxruntime_auroc_rows(prediction: dict) -> list[Row]:
    """Mean AUROC of torch fp32 vs each ONNX Runtime path, on the same comments."""
    auroc = prediction["auroc"]
    return [_auroc_row(f"mean AUROC fp32 -> {label.split(' (')[0]} (ratio col: difference)", auroc["fp32_mean"],
                       auroc.get(f"{key}_mean")) for key, label, _ in ONNXRUNTIME_PATHS if key in prediction]


def tokenization_rows(tokenization: dict) -> list[Row]:
    batch = tokenization["batch"]["comments_per_s"]
    return [
        _speed_row("tokenize comments/s (per item padded vs batch)",
                   tokenization["per_item_padded"]["comments_per_s"], batch),
        _speed_row("tokenize comments/s (per item unpadded vs batch)",
                   tokenization["per_item_unpadded"]["comments_per_s"], batch),
    ]


def summary_rows(results: dict) -> list[dict]:
    peak = results["matmul"]["peak_flops_per_s"]
    rows = [*training_rows(results["training"], peak), *prediction_rows(results["prediction"], peak),
            *tokenization_rows(results["tokenization"])]
    return [asdict(row) for row in rows]
