"""The shape of `params.yaml`: one frozen dataclass per pipeline section.

loading.py builds these from the YAML and rules.py checks their values; the rest of the code
receives them typed, never raw dicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from toxic_tagger import LABELS

# What train.monitor may name: the metrics the LightningModule logs on val each epoch.
MONITORS = ("val/loss", "val/mean_auroc", *(f"val/auroc_{label}" for label in LABELS))


@dataclass(frozen=True)
class FetchParams:
    source: str  # "sample", a local .csv/.csv.gz/.zip path, or an http(s) URL
    sha256: str | None  # expected sha256 of the source file (optional)
    sample_rows: int  # rows of the synthetic sample (source: sample)


@dataclass(frozen=True)
class SplitParams:
    val_fraction: float
    test_fraction: float
    clean_rows: int | None  # untagged rows kept in the balanced train split; null = all of them


@dataclass(frozen=True)
class TokenStatsParams:
    max_lengths: tuple[int, ...]  # lengths at which truncation and padding efficiency are reported


@dataclass(frozen=True)
class ModelParams:
    name: str  # packaged id, local directory or hub id
    max_length: int  # tokens per comment after truncation
    hidden_dropout: float  # dropout on hidden states during fine-tuning
    attention_dropout: float  # dropout on attention probabilities (0 keeps the fused kernel)
    truncation: Literal["head", "head_tail"]  # a long comment keeps its first tokens, or its first and last
    head_tokens: int  # head_tail: tokens kept from the start; the last max_length - 2 - head_tokens are kept too


@dataclass(frozen=True)
class TrainParams:
    epochs: int
    lr: float  # encoder learning rate (peak, after warm-up)
    head_lr: float  # learning rate of the freshly initialised classification head
    pos_weight_power: float  # BCE pos_weight per tag = (negatives / positives) ** power; 0 = off
    weight_decay: float
    warmup_fraction: float  # share of all optimizer steps with linear warm-up
    max_tokens_per_batch: int  # padded tokens per batch (batch size x longest comment)
    max_batch_size: int
    batching: Literal["bucket", "fixed"]  # length-bucketed token-budget batches, or fixed-size shuffled ones
    monitor: str  # metric for checkpointing and early stopping
    patience: int  # epochs without improvement before early stopping
    cls_only_last_layer: bool  # last layer computes [CLS] only (BERT models): same logits, fewer FLOPs
    freeze_embeddings: bool  # embedding tables + their LayerNorm keep their pretrained values (not trained)
    fast_dropout: bool  # dropout masks from 15-bit random integers (fast_dropout.py), not torch's CPU Bernoulli sampler
    precision: Literal["fp32", "bf16", "16-mixed", "bf16-mixed"]  # bf16: CPU autocast with fp32 attention; *-mixed: GPU AMP
    accelerator: str  # Lightning's: auto, cpu, gpu, cuda, mps, ...
    devices: int  # processes (CPU) or GPUs per node; > 1 trains data-parallel under `strategy`
    num_nodes: int  # machines, each with `devices`
    strategy: Literal["auto", "ddp", "ddp_spawn"]  # Lightning's; auto = ddp(_spawn) when devices x num_nodes > 1
    checkpoint_every_n_steps: int  # also write checkpoints/last.ckpt every N optimizer steps (0 = at epoch ends only)
    progress_every_n_steps: int  # off a terminal, one progress line every N steps (and at each epoch end)
    layer_lr_decay: float  # encoder layer i below the top trains at lr * layer_lr_decay ** i; 1.0 = one lr
    baseline_weight: float | None  # TF-IDF baseline's blend weight, all tags; null = per tag, tuned on val; 0 = off
    blend_space: Literal["probability", "logit"]  # average the two parts' probabilities or their log-odds
    calibration: Literal["auto", "none"]  # auto: a calibrator per tag, chosen on val by cross-fitting; none: raw scores
    refit_on_val: bool  # after choosing everything on val, retrain on train + val for the chosen epochs and export that


@dataclass(frozen=True)
class BaselineParams:
    word_ngrams: tuple[int, ...]  # (min, max) word n-gram lengths
    char_ngrams: tuple[int, ...]  # (min, max) character n-gram lengths
    word_max_features: int  # most frequent word n-grams kept
    char_max_features: int  # most frequent character n-grams kept
    sublinear_tf: bool  # term frequency tf -> 1 + log(tf)
    C: float  # inverse L2 regularisation strength of each tag's logistic regression
    class_weight: str | None  # "balanced" (reweight by tag rarity) or null


@dataclass(frozen=True)
class EvaluateParams:
    max_tokens_per_batch: int
    bootstrap_samples: int  # resamples for the 95% confidence intervals


@dataclass(frozen=True)
class Params:
    seed: int
    threads: int  # torch threads for train/evaluate; 0 = all cores available to this process
    fetch: FetchParams
    balance_split: SplitParams
    token_stats: TokenStatsParams
    model: ModelParams
    train: TrainParams
    baseline: BaselineParams
    evaluate: EvaluateParams
