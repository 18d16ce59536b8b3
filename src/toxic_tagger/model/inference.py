"""Batched torch inference of a sequence classifier: length-sorted batches under a token budget.

`predict_proba(model, tokenizer, texts, ...)` returns sigmoid probabilities (n, 6) in the
order of `texts`. Sorting by length means each batch pads only to its own longest comment;
the original order is restored at the end. BERT models run their last layer for [CLS] only
(`cls_only.py`: same logits, fewer matmuls). Training scores val with it, and every torch
runtime of an exported model runs it (`predict/torch_runtime.py`; ONNX Runtime:
`predict/onnx_runtime.py`, same batching).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from tqdm import tqdm

from toxic_tagger.data.batching import scored_in_batches
from toxic_tagger.data.tokens import HEAD, Truncation, encode
from toxic_tagger.model.cls_only import cls_only_last_layer
from toxic_tagger.model.precision import autocast


def predict_proba(
    model, tokenizer, texts: Sequence[str], max_length: int, max_tokens: int,
    max_batch_size: int = 256, progress: bool = True, precision: str = "fp32", truncation: Truncation = HEAD,
) -> np.ndarray:
    """Probabilities per tag for each text: (len(texts), n_labels) float32, input order.
    precision "bf16": matmuls under bf16 autocast (precision.py; fast on CPUs with AMX);
    `truncation`: which tokens of a long comment are read (data/tokens.py)."""
    ids = encode(tokenizer, texts, max_length, truncation=truncation)
    return predict_encoded(model, ids, tokenizer.pad_token_id, max_tokens, max_batch_size, progress, precision)


def predict_encoded(
    model, ids: list[list[int]], pad_id: int, max_tokens: int, max_batch_size: int = 256,
    progress: bool = True, precision: str = "fp32",
) -> np.ndarray:
    """Like predict_proba, for already tokenized comments."""
    model.eval()

    def score(padded: dict[str, torch.Tensor]) -> np.ndarray:
        logits = model(**{name: t.to(model.device) for name, t in padded.items()}).logits  # (batch, n_labels)
        return torch.sigmoid(logits.float()).cpu().numpy()

    with torch.inference_mode(), cls_only_last_layer(model), autocast(precision):
        return scored_in_batches(ids, pad_id, max_tokens, max_batch_size, model.config.num_labels, score,
                                 wrap=lambda batches: tqdm(batches, desc="predict", unit="batch", disable=not progress))
