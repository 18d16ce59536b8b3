"""The `train` stage's logic: fine-tune with Lightning, pick the best epoch, tune thresholds,
export.

Input: typed params and the balanced train / natural val splits. Output: checkpoints
(best and last) in `checkpoints/`, TensorBoard logs, the exported model directory, and a
summary dict for metrics/train.json.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import numpy as np
import pandas as pd
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger

from toxic_tagger import LABELS
from toxic_tagger.config import Params
from toxic_tagger.datamodule import CommentDataModule
from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.export import export_model
from toxic_tagger.metrics import per_tag_auroc, tune_thresholds
from toxic_tagger.module import ToxicClassifier
from toxic_tagger.predict import predict_encoded
from toxic_tagger.pretrained import load_classifier, load_tokenizer
from toxic_tagger.runtime import configure_threads, seed_everything
from toxic_tagger.table import label_matrix

MONITORS = ("val/loss", "val/mean_auroc", *(f"val/auroc_{label}" for label in LABELS))


@dataclass(frozen=True)
class TrainPaths:
    checkpoints: Path
    logs: Path
    model: Path


def monitor_mode(monitor: str) -> str:
    if monitor not in MONITORS:
        raise ToxicTaggerError(f"params.yaml: train.monitor {monitor!r} is not logged; choose one of {MONITORS}")
    return "min" if monitor == "val/loss" else "max"


def build_trainer(params: Params, paths: TrainPaths) -> tuple[L.Trainer, ModelCheckpoint]:
    mode = monitor_mode(params.train.monitor)
    checkpoint = ModelCheckpoint(
        dirpath=paths.checkpoints, filename="best", monitor=params.train.monitor, mode=mode,
        save_top_k=1, save_last=True, enable_version_counter=False,
    )
    stopping = EarlyStopping(monitor=params.train.monitor, mode=mode, patience=params.train.patience)
    logger = TensorBoardLogger(save_dir=str(paths.logs), name="", version="", default_hp_metric=False)
    trainer = L.Trainer(
        max_epochs=params.train.epochs, accelerator="auto", devices=1, deterministic=True,
        callbacks=[checkpoint, stopping], logger=logger, log_every_n_steps=10,
        num_sanity_val_steps=0, enable_model_summary=False,
    )
    return trainer, checkpoint


def fit_and_export(params: Params, train: pd.DataFrame, val: pd.DataFrame, paths: TrainPaths, root: Path,
                   provenance: dict) -> dict:
    """Train, restore the best checkpoint, tune thresholds on val, export; return a summary."""
    threads = configure_threads(params.threads)
    seed_everything(params.seed)
    tokenizer = load_tokenizer(params.model.name, root)
    data = CommentDataModule(train, val, tokenizer, params.model.max_length, params.train.max_tokens_per_batch,
                             params.train.max_batch_size, params.seed)
    module = ToxicClassifier(load_classifier(params.model.name, root), params.train.lr,
                             params.train.weight_decay, params.train.warmup_fraction, params.train.head_lr,
                             pos_weight(label_matrix(train), params.train.pos_weight_power))
    trainer, checkpoint = build_trainer(params, paths)
    started = time.perf_counter()
    trainer.fit(module, datamodule=data)
    seconds = time.perf_counter() - started
    best_epoch = restore_best(module, checkpoint)
    val_set = data.datasets["val"]
    val_probs = predict_encoded(module.model, val_set.ids, tokenizer.pad_token_id, params.train.max_tokens_per_batch)
    val_labels = label_matrix(val)
    thresholds = tune_thresholds(val_labels, val_probs)
    export_model(module.model, tokenizer, paths.model, thresholds, params.model.max_length,
                 {"base_model": params.model.name, "threshold_source": "val", **provenance})
    return {
        "threads": threads, "epochs_run": int(trainer.current_epoch), "best_epoch": best_epoch,
        "monitor": params.train.monitor, "best_score": float(checkpoint.best_model_score),
        "val_mean_auroc": float(np.nanmean(per_tag_auroc(val_labels, val_probs))),
        "train_seconds": round(seconds, 1), "train_rows": len(train), "val_rows": len(val),
    }


def pos_weight(labels: np.ndarray, power: float) -> list[float] | None:
    """Per-tag BCE pos_weight (negatives / positives) ** power; None when power is 0."""
    if power == 0:
        return None
    positives = labels.sum(axis=0)
    negatives = len(labels) - positives
    return [float(w) for w in (negatives / np.maximum(positives, 1)) ** power]


def restore_best(module: ToxicClassifier, checkpoint: ModelCheckpoint) -> int:
    """Load the best epoch's weights (the pipeline's own checkpoint; tensors only); return its epoch."""
    if not checkpoint.best_model_path:
        raise ToxicTaggerError("training produced no checkpoint (no validation epoch ran)")
    state = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)
    module.load_state_dict(state["state_dict"])
    return int(state["epoch"])
