"""Training throughput: the tutorial's input pipeline vs toxic-tagger's, same model and loop.

Both sides run the same `ToxicClassifier` (same weights, AdamW parameter groups, linear
warm-up schedule) through the same Lightning `Trainer` settings the `train` stage uses
(`deterministic=True`, one device, automatic optimization), so the differences are how
comments become batches:
- tutorial: one tokenizer call per comment in `Dataset.__getitem__`, padded to max_length
  (512), fixed batches of 12 in file order;
- toxic-tagger: `CommentDataModule` (batch tokenization once, unpadded ids) +
  `BucketBatchSampler` (length buckets under `train.max_tokens_per_batch`, dynamic padding),
  the last layer for [CLS] only when `train.cls_only_last_layer` is on, frozen embeddings
  when `train.freeze_embeddings` is on and cheap dropout masks when `train.fast_dropout` is
  on, as in `train`.
`StepTimer` times each step from `on_train_batch_start` to `on_train_batch_end` (forward,
backward, optimizer step, zero_grad, LR scheduler step, step logging); the gap before a step
(data loading, where the tutorial tokenizes) is summed separately, and `fit_seconds` covers
it all, the data module's one-off batch tokenization included. Between steps, after every
`probe_seconds` of timed steps, it measures the matmul peak (bench_peak.MatchedPeak): the
yardstick each side's efficiency is judged against. Probe time is left out of every figure.
"""

from __future__ import annotations

import time

import lightning as L
import numpy as np
import pandas as pd
import torch
from bench_common import load_comments, rss_mb
from bench_peak import MatchedPeak, run_peak
from bench_report import FLIPPED
from flops import batch_flops, cls_only_skipped_flops, frozen_embeddings_skipped_flops, model_size

from toxic_tagger import LABELS, TEXT_COLUMN
from toxic_tagger.data.datamodule import CommentDataModule
from toxic_tagger.model.classifier import ToxicClassifier
from toxic_tagger.model.cls_only import supports
from toxic_tagger.model.precision import lightning_precision, native_bf16
from toxic_tagger.model.pretrained import load_classifier, load_tokenizer
from toxic_tagger.model.training import pos_weight
from toxic_tagger.runtime import seed_everything


class StepTimer(L.Callback):
    """Per-step wall time, samples, real tokens and padded length of every training batch; with
    `peak`, matmul probes after the warm-up steps, then after every `probe_seconds` of timed
    steps, and at the end (outside the step and gap times)."""

    def __init__(self, peak: MatchedPeak | None = None, warmup_steps: int = 0, probe_seconds: float = 8.0) -> None:
        self.steps: list[dict] = []
        self.gaps: list[float] = []  # time between one step's end and the next one's start
        self._started = self._ended = None
        self.peak, self.warmup_steps, self.probe_seconds = peak, warmup_steps, probe_seconds

    def on_train_start(self, trainer, pl_module) -> None:
        if self.peak is not None and self.warmup_steps == 0:
            self.peak.probe()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self._started = time.perf_counter()
        if self._ended is not None:
            self.gaps.append(self._started - self._ended)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._ended = time.perf_counter()
        mask = batch["attention_mask"]  # (batch, padded_length)
        seconds = self._ended - self._started
        self.steps.append({"seconds": seconds, "samples": int(mask.shape[0]),
                           "real_tokens": int(mask.sum()), "padded_length": int(mask.shape[1])})
        if self.peak is None:
            return
        index = len(self.steps) - 1
        if index >= self.warmup_steps:
            self.peak.add(seconds)
        if index == self.warmup_steps - 1 or (index >= self.warmup_steps and self.peak.due(self.probe_seconds)):
            self.peak.probe()
            self._ended = time.perf_counter()  # the probe is not part of the next gap

    def on_train_end(self, trainer, pl_module) -> None:
        if self.peak is not None and self.peak.pending > 0:
            self.peak.probe()


class TutorialDataset(torch.utils.data.Dataset):
    """The tutorial's per-comment encoding: one tokenizer call per item, padded to max_length."""

    def __init__(self, texts: list[str], labels: np.ndarray, tokenizer, max_length: int) -> None:
        self.texts, self.labels = texts, torch.tensor(labels, dtype=torch.float32)
        self.tokenizer, self.max_length = tokenizer, max_length

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        encoded = self.tokenizer(self.texts[index], max_length=self.max_length, padding="max_length",
                                 truncation=True, return_attention_mask=True, return_tensors="pt")
        return {"input_ids": encoded["input_ids"].flatten(), "attention_mask": encoded["attention_mask"].flatten(),
                "labels": self.labels[index]}


def bench_trainer(timer: StepTimer, steps_limit: int | None, precision: str = "fp32") -> L.Trainer:
    """The train stage's Trainer without checkpoints, loggers and validation (not training steps)."""
    return L.Trainer(
        max_epochs=1, max_steps=steps_limit or -1, accelerator="cpu", devices=1, deterministic=True,
        precision=lightning_precision(precision),
        callbacks=[timer], logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=0,
    )


def build_module(cfg: dict, labels: np.ndarray, dropout: dict | None = None, cls_only: bool = False,
                 freeze_embeddings: bool = False, fast_dropout: bool = False,
                 layer_lr_decay: float = 1.0, precision: str = "fp32") -> ToxicClassifier:
    """`dropout` (hidden_dropout, attention_dropout) as the train stage sets them; None keeps the
    checkpoint's own rates, as the tutorial's BertModel did. `cls_only` / `freeze_embeddings` /
    `fast_dropout`: the train stage's `train.cls_only_last_layer` / `train.freeze_embeddings` /
    `train.fast_dropout` (the tutorial runs every layer in full, trains every weight and uses
    torch's dropout). `layer_lr_decay`: `train.layer_lr_decay` (1.0, one lr, on the tutorial's side).
    `precision`: `train.precision` (fp32 on the tutorial's side)."""
    seed_everything(cfg["seed"])
    train = cfg["train"]
    model = load_classifier(cfg["train_model"], cfg["root"], **(dropout or {}))
    return ToxicClassifier(model, lr=train["lr"], head_lr=train["head_lr"], weight_decay=train["weight_decay"],
                           warmup_fraction=train["warmup_fraction"],
                           pos_weight=pos_weight(labels, train["pos_weight_power"]), cls_only=cls_only,
                           freeze_embeddings=freeze_embeddings, fast_dropout=fast_dropout,
                           layer_lr_decay=layer_lr_decay, precision=precision)


def fit_and_time(cfg: dict, module: ToxicClassifier, **fit_inputs) -> dict:
    """Run one epoch (or `steps_limit` steps) and summarise the timed steps."""
    peak = run_peak(cfg, bf16=module.hparams.precision == "bf16")
    timer = StepTimer(peak, cfg["train"]["warmup_steps"], cfg["probe_seconds"])
    trainer = bench_trainer(timer, cfg["train"]["steps_limit"], module.hparams.precision)
    rss_loaded = rss_mb()
    started = time.perf_counter()
    trainer.fit(module, **fit_inputs)
    fit_seconds = time.perf_counter() - started - peak.probe_seconds
    size = model_size(module.model)
    return {**summarise_steps(timer, size, cfg["train"]["warmup_steps"], fit_seconds,
                              module.hparams.cls_only and supports(module.model), module.hparams.freeze_embeddings),
            **peak.summary(), "rss_after_load_mb": rss_loaded, "non_embedding_params": size.non_embedding_params}


def summarise_steps(timer: StepTimer, size, warmup_steps: int, fit_seconds: float, cls_only: bool = False,
                    frozen_embeddings: bool = False) -> dict:
    """Throughput and FLOP/s over the steps after `warmup_steps` (one-off kernel set-up).
    `executed_flops_share`: executed / credited FLOPs (below 1 with the [CLS]-only last layer
    or frozen embeddings)."""
    all_steps = timer.steps
    timed = all_steps[warmup_steps:] if len(all_steps) > warmup_steps else all_steps
    seconds = sum(s["seconds"] for s in timed)
    samples = sum(s["samples"] for s in timed)
    real = sum(s["real_tokens"] for s in timed)
    padded = sum(s["samples"] * s["padded_length"] for s in timed)
    flops = sum(batch_flops(size, s["real_tokens"], s["padded_length"], training=True) for s in timed)
    skipped = sum(cls_only_skipped_flops(size, s["real_tokens"], s["samples"], s["padded_length"], training=True)
                  for s in timed) if cls_only else 0
    skipped += frozen_embeddings_skipped_flops(size, real) if frozen_embeddings else 0
    return {
        "steps_run": len(all_steps), "steps_timed": len(timed), "samples": samples, "real_tokens": real,
        "padded_tokens": padded, "real_token_fraction": real / padded, "step_seconds": seconds,
        "samples_per_s": samples / seconds, "real_tokens_per_s": real / seconds, "flops_per_s": flops / seconds,
        "executed_flops_share": 1 - skipped / flops, "mean_batch_size": samples / len(timed), "gap_seconds": sum(timer.gaps), "fit_seconds": fit_seconds,
        "samples_per_s_end_to_end": sum(s["samples"] for s in all_steps) / fit_seconds,
    }


def train_tutorial(cfg: dict) -> dict:
    texts, labels = load_comments(cfg, "train")
    tokenizer = load_tokenizer(cfg["train_model"], cfg["root"])
    module = build_module(cfg, labels)
    dataset = TutorialDataset(texts, labels, tokenizer, cfg["max_length"])
    loader = torch.utils.data.DataLoader(dataset, batch_size=cfg["train"]["tutorial_batch_size"], shuffle=False,
                                         num_workers=0)
    return {"path": "tutorial", **fit_and_time(cfg, module, train_dataloaders=loader)}


def toxic_tagger_module(cfg: dict, labels: np.ndarray) -> ToxicClassifier:
    """`build_module` with every train-stage setting in `cfg["train"]` (toxic-tagger's side)."""
    train = cfg["train"]
    return build_module(cfg, labels, train["dropout"], train["cls_only_last_layer"], train["freeze_embeddings"],
                        train["fast_dropout"], train["layer_lr_decay"], train["precision"])


def toxic_tagger_data(cfg: dict, texts: list[str], labels: np.ndarray) -> CommentDataModule:
    """The train stage's data module over these comments (length buckets under the token budget)."""
    tokenizer = load_tokenizer(cfg["train_model"], cfg["root"])
    frame = pd.DataFrame({TEXT_COLUMN: texts, **{tag: labels[:, j] for j, tag in enumerate(LABELS)}})
    train = cfg["train"]
    # no validation is run here; the data module still wants a val frame
    return CommentDataModule(frame, frame.iloc[:1], tokenizer, cfg["max_length"], train["max_tokens_per_batch"],
                             train["max_batch_size"], cfg["seed"])


def train_toxic_tagger(cfg: dict) -> dict:
    texts, labels = load_comments(cfg, "train")
    module = toxic_tagger_module(cfg, labels)
    data = toxic_tagger_data(cfg, texts, labels)
    train = cfg["train"]
    return {"path": "toxic-tagger", "max_tokens_per_batch": train["max_tokens_per_batch"], "precision": train["precision"],
            **{param: train[param] for param in FLIPPED}, **fit_and_time(cfg, module, datamodule=data)}


def train_toxic_tagger_bf16(cfg: dict) -> dict:
    """`train_toxic_tagger` with `train.precision` bf16 (same comments, batches and steps)."""
    return {**train_toxic_tagger({**cfg, "train": {**cfg["train"], "precision": "bf16"}}), "native_bf16": native_bf16()}


def train_toxic_tagger_flipped(cfg: dict, param: str) -> dict:
    """`train_toxic_tagger` with boolean `train.<param>` the other way round: the side-by-side
    evidence for that param (same comments, batches and steps)."""
    train = cfg["train"]
    return train_toxic_tagger({**cfg, "train": {**train, param: not train[param]}})
