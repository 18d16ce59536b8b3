"""Score comments with an exported model in torch (the `torch` and `torch-bf16` runtimes).

    exported = load_exported("models/toxic-tagger")
    probs = predict_exported(exported, texts, max_tokens=2048)   # (n, 6), input order

The transformer runs through `model.inference` (length-sorted batches under a token budget,
[CLS]-only last layer, the export's truncation); its probabilities are then blended with the
export's TF-IDF baseline when it carries one and calibrated (`model.blend.blend_exported`), as
every runtime does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from toxic_tagger.model.blend import blend_exported
from toxic_tagger.model.inference import predict_proba


def predict_exported(exported, texts: Sequence[str], max_tokens: int, progress: bool = True,
                     precision: str = "fp32", calibrated: bool = True) -> np.ndarray:
    """Final probabilities of an exported model (n, 6) for `texts`: the transformer's, blended
    with the baseline when the export has one, calibrated (`calibrated=False`: not, as the
    evaluate stage needs for its before/after report). precision "bf16": matmuls under bf16
    autocast."""
    probs = predict_proba(exported.model, exported.tokenizer, texts, exported.max_length, max_tokens,
                          progress=progress, precision=precision, truncation=exported.truncation)
    return blend_exported(exported, texts, probs, calibrated=calibrated)
