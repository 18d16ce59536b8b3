"""The Python API: load an exported model once, tag comments with it.

    from toxic_tagger import Tagger

    tagger = Tagger.load("models/toxic-tagger", device="cpu")        # runtime="onnxruntime-int8", ...
    tagger.predict(["you idiot", "thanks for the fix"])
    # [{"probabilities": {"toxic": 0.97, ...}, "tags": ["toxic", "insult"], "truncated": False}, ...]
    tagger.predict_proba(texts)                                       # (n, 6) array, columns tagger.labels

Texts: a list (or any sequence) of strings, or a pandas Series. A text that is not a string, or
is empty or whitespace only, stops the call with an error naming its position (0-based). Texts
longer than the model's `max_length` tokens are scored on `max_length` of them (the first ones,
or the first `head_tokens` and the last ones when the export's truncation is head_tail), and
`predict` says so (`truncated`). The CLI and the HTTP service score through this class, so the
blend, the calibration and the thresholds are applied the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toxic_tagger import LABELS
from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.predict.runtimes import Scorer, load_scorer

DEFAULT_MAX_TOKENS = 2048  # padded tokens per batch (evaluate.max_tokens_per_batch's default)


class CommentError(ToxicTaggerError, ValueError):
    """A text the tagger cannot score: not a string, or blank."""


@dataclass(frozen=True)
class Tagger:
    exported: object  # model.export.Exported
    runtime: str
    score: Scorer

    @classmethod
    def load(cls, directory: str | Path = "models/toxic-tagger", *, device: str = "cpu", runtime: str = "torch",
             max_tokens_per_batch: int = DEFAULT_MAX_TOKENS, onnx_cache: str | Path | None = None,
             progress: bool = True) -> Tagger:
        """Load an exported folder (safetensors + JSON only) onto `device` ("cpu", "cuda", ...) for
        `runtime` (torch, torch-bf16, onnxruntime, onnxruntime-int8, openvino, openvino-bf16; the
        last four on the CPU, built once and kept in `onnx_cache`). `progress`: a per-batch bar on
        long torch calls."""
        from toxic_tagger.model.export import load_exported

        exported = load_exported(directory)
        try:
            exported.model.to(device)
        except (RuntimeError, ValueError, AssertionError) as exc:  # unknown or absent device
            raise ToxicTaggerError(f"device {device!r}: {str(exc).splitlines()[0]}") from exc
        return cls(exported, runtime, load_scorer(exported, runtime, max_tokens_per_batch, onnx_cache, progress))

    @property
    def labels(self) -> tuple[str, ...]:
        return LABELS

    @property
    def thresholds(self) -> dict[str, float]:
        """The per-tag thresholds tuned on val: a tag is predicted when its probability reaches it."""
        return {label: float(t) for label, t in zip(LABELS, self.exported.thresholds)}

    @property
    def max_length(self) -> int:
        return int(self.exported.max_length)

    def metadata(self) -> dict:
        """Labels, thresholds, truncation, runtime, blend, calibration and the model's provenance."""
        meta, exported = self.exported.meta, self.exported
        calibration = exported.calibration.to_json() if exported.calibration is not None else None
        return {"labels": list(LABELS), "thresholds": self.thresholds, "max_length": self.max_length,
                "truncation": exported.truncation.strategy, "head_tokens": exported.truncation.head_tokens,
                "runtime": self.runtime, "blend": meta.get("blend"), "calibration": calibration,
                **{key: meta.get(key) for key in ("base_model", "data_source", "data_sha256", "threshold_source",
                                                "refit_on_val")}}

    def predict_proba(self, texts: Iterable[str]) -> np.ndarray:
        """Probabilities (n, 6) (float64 once calibrated, else float32), rows in input order, columns in
        `labels` order."""
        checked = check_texts(texts)
        if not checked:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        return self.score(checked)  # every runtime ends in blend_exported, which checks the range

    def predict(self, texts: Iterable[str]) -> list[dict]:
        """Per text: {"probabilities": {tag: p}, "tags": [tags at or over their threshold],
        "truncated": whether only `max_length` of its tokens were read}."""
        checked = check_texts(texts)
        probs = self.predict_proba(checked)
        cut = self.truncated(checked)
        thresholds = self.exported.thresholds
        return [{"probabilities": {label: round(float(p), 6) for label, p in zip(LABELS, row)},
                 "tags": [label for label, p, t in zip(LABELS, row, thresholds) if p >= t],
                 "truncated": bool(flag)} for row, flag in zip(probs, cut)]

    def truncated(self, texts: Sequence[str]) -> np.ndarray:
        """(n,) bool: the text has more than `max_length` tokens. Only texts long enough in
        characters to need it are tokenized in full (a token spans at least one character)."""
        from toxic_tagger.data.tokens import token_lengths

        flags = np.zeros(len(texts), dtype=bool)
        long = [i for i, text in enumerate(texts) if len(text) > self.max_length - 2]
        if long:
            lengths = token_lengths(self.exported.tokenizer, [texts[i] for i in long])
            flags[long] = lengths > self.max_length
        return flags


def check_texts(texts: Iterable[str]) -> list[str]:
    """`texts` as a list of strings; a non-string or blank text is a CommentError naming its index."""
    if isinstance(texts, str):
        raise CommentError("texts: expected a list of comments, got one string (wrap it in a list)")
    items = list(texts.tolist() if hasattr(texts, "tolist") else texts)
    for index, text in enumerate(items):
        if not isinstance(text, str):
            raise CommentError(f"text {index}: expected a string, got {type(text).__name__}")
        if not text.strip():
            raise CommentError(f"text {index}: empty or whitespace-only comment")
    return items
