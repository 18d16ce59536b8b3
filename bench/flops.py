"""FLOP counting for encoder fine-tuning and prediction, and the machine's matmul peak (fp32, or bf16).

The count follows the usual transformer estimate (Kaplan et al.; nanoGPT's MFU), per *real*
(non-pad) token, so that work spent on padding earns nothing:

    training    6 * N + 12 * L * d * layers   (forward 2N, backward 4N; attention scores + mix)
    prediction  2 * N +  4 * L * d * layers

N = parameters excluding the embedding tables (a lookup is not a matmul), L = the batch's
padded length (every real token attends over all L positions), d = hidden size.
`efficiency = counted FLOP/s / measured matmul FLOP/s` is then a model FLOP utilisation.
Used by the benchmarks in bench/; the formulas are unit-tested on a tiny BertConfig.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import torch

# FLOPs per real token: (per non-embedding parameter, per L*d*layer of attention)
TRAINING = (6, 12)
PREDICTION = (2, 4)


@dataclass(frozen=True)
class ModelSize:
    non_embedding_params: int  # N
    hidden: int  # d
    layers: int


def non_embedding_params(model: torch.nn.Module) -> int:
    """Parameters of `model` minus those of its nn.Embedding tables (word, position, type)."""
    embedding = {id(p) for m in model.modules() if isinstance(m, torch.nn.Embedding) for p in m.parameters()}
    return sum(p.numel() for p in model.parameters() if id(p) not in embedding)


def model_size(model: torch.nn.Module) -> ModelSize:
    """N, hidden size and layer count of a transformers encoder (reads `model.config`)."""
    config = model.config
    return ModelSize(non_embedding_params(model), int(config.hidden_size), int(config.num_hidden_layers))


def flops_per_token(size: ModelSize, padded_length: int, training: bool) -> int:
    """FLOPs credited to one real token in a batch padded to `padded_length`."""
    per_param, per_attention = TRAINING if training else PREDICTION
    return per_param * size.non_embedding_params + per_attention * padded_length * size.hidden * size.layers


def batch_flops(size: ModelSize, real_tokens: int, padded_length: int, training: bool) -> int:
    """FLOPs credited to one batch: its real tokens times the per-token count."""
    return int(real_tokens) * flops_per_token(size, padded_length, training)


def cls_only_skipped_flops(size: ModelSize, real_tokens: int, samples: int, padded_length: int,
                           training: bool) -> int:
    """Of a batch's credited FLOPs, those a [CLS]-only last layer (cls_only.py) never runs: for
    every real token but each comment's [CLS], the last layer's query, attention-output and
    feed-forward matmuls (10 d^2 of a BERT layer's 12 d^2 weights; key and value still run) and
    its attention over `padded_length` positions."""
    per_param, per_attention = TRAINING if training else PREDICTION
    d = size.hidden
    return int(real_tokens - samples) * (per_param * 10 * d * d + per_attention * padded_length * d)


def frozen_embeddings_skipped_flops(size: ModelSize, real_tokens: int) -> int:
    """Of a training batch's credited FLOPs, those frozen embeddings (`train.freeze_embeddings`)
    never run: nothing upstream of the first layer needs a gradient, so the input gradients of
    its query, key and value projections (3 x 2 d^2 per token) are skipped. (The embedding
    table's own gradient and AdamW update go too, but a lookup is not credited.)"""
    return int(real_tokens) * 3 * 2 * size.hidden * size.hidden


def _batch_shapes(lengths: Sequence[int], batches: Iterable[Sequence[int]],
                  pad_to: int | None) -> Iterator[tuple[int, int, int]]:
    """(real tokens, comments, padded length) of each batch (index lists into `lengths`)."""
    for batch in batches:
        real = [int(lengths[i]) for i in batch]
        yield sum(real), len(real), pad_to or max(real)


def batches_flops(size: ModelSize, lengths: Sequence[int], batches: Iterable[Sequence[int]],
                  training: bool, pad_to: int | None = None) -> int:
    """FLOPs of a whole run given each comment's token count and the batches (index lists).
    `pad_to`: every batch padded to this length (the tutorial's fixed 512) instead of its longest."""
    return sum(batch_flops(size, real, padded, training) for real, _, padded in _batch_shapes(lengths, batches, pad_to))


def batches_cls_only_skipped_flops(size: ModelSize, lengths: Sequence[int], batches: Iterable[Sequence[int]],
                                   training: bool, pad_to: int | None = None) -> int:
    """`cls_only_skipped_flops` summed over a run's batches (arguments as `batches_flops`)."""
    return sum(cls_only_skipped_flops(size, real, comments, padded, training)
               for real, comments, padded in _batch_shapes(lengths, batches, pad_to))


def matmul_flops_per_second(n: int, reps: int = 5, dtype: torch.dtype = torch.float32) -> float:
    """Best-of-`reps` FLOP/s of one (n x n) @ (n x n) matmul at torch's current thread count."""
    a = torch.randn(n, n, dtype=dtype)
    b = torch.randn(n, n, dtype=dtype)
    out = torch.empty(n, n, dtype=dtype)
    torch.matmul(a, b, out=out)  # warm-up: thread pool, kernel selection
    best = float("inf")
    for _ in range(reps):
        started = time.perf_counter()
        torch.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - started)
    return 2 * n**3 / best


def matmul_peak(sizes: Sequence[int] = (1024, 2048), reps: int = 5,
                dtype: torch.dtype = torch.float32) -> dict[str, float]:
    """Measured matmul FLOP/s per size and their maximum (`peak`), the efficiency yardstick
    (fp32; bf16 for the bf16 paths' own yardstick)."""
    measured = {str(n): matmul_flops_per_second(n, reps, dtype) for n in sizes}
    return {**measured, "peak": max(measured.values())}
