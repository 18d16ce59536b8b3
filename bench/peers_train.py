"""Training side by side, toxic-tagger's side: the `train` stage's fit on the bench's comments.

Both sides (this one and peers_trainer.py, the Hugging Face Trainer) train on the same train
comments, validate on the same val comments after each epoch, from the same base model, at the
same max_length, epochs, seed, threads and precision (fp32, or bf16 autocast: Lightning's
"bf16-mixed" here, TrainingArguments(bf16=True) there). This side builds the train stage's own
objects: `CommentDataModule`, `ToxicClassifier.from_params` and `training.build_trainer`
(checkpoints best + last, early stopping, TensorBoard and DVCLive loggers), with a
`LightningPhases` callback added. What the stage does after the fit (restore the best epoch,
blend with the baseline, tune thresholds, export) is left out.
Phases (bench_common.Phases): forward up to the backward (zero_grad included), backward, the
optimizer step with the LR schedule and step logging, validation, and other (the data module's
tokenization, batch building, checkpoints: the fit's wall time less the rest).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import lightning as L
import numpy as np
import pandas as pd
from bench_common import Phases, bench_params, load_comments

from toxic_tagger import LABELS, TEXT_COLUMN


class LightningPhases(L.Callback):
    """Lightning's hooks around each training step and each validation run."""

    def __init__(self, phases: Phases) -> None:
        self.phases = phases

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.phases.mark = time.perf_counter()

    def on_before_backward(self, trainer, pl_module, loss) -> None:
        self.phases.lap("forward")

    def on_after_backward(self, trainer, pl_module) -> None:
        self.phases.lap("backward")

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.phases.lap("optimizer")
        self.phases.count(batch["attention_mask"])

    def on_validation_start(self, trainer, pl_module) -> None:
        self.phases.mark = time.perf_counter()

    def on_validation_end(self, trainer, pl_module) -> None:
        self.phases.lap("validation")
        self.phases.val_mean_auroc.append(float(trainer.callback_metrics["val/mean_auroc"]))


def comment_frames(cfg: dict) -> dict[str, pd.DataFrame]:
    """The bench's train and val comments as comment tables (text + one 0/1 column per tag)."""
    out = {}
    for split in ("train", "val"):
        texts, labels = load_comments(cfg, split)
        columns = {tag: labels[:, j].astype(int) for j, tag in enumerate(LABELS)}
        out[split] = pd.DataFrame({TEXT_COLUMN: texts, **columns})
    return out


def train_toxic_tagger(cfg: dict, precision: str) -> dict:
    """The train stage's fit; with cfg["export_to"] (fp32 only) the last epoch's model is exported
    there (no baseline, thresholds 0.5) for the prediction parts."""
    from toxic_tagger.data.comments_csv import label_matrix
    from toxic_tagger.data.datamodule import CommentDataModule
    from toxic_tagger.model.classifier import ToxicClassifier
    from toxic_tagger.model.pretrained import load_classifier, load_tokenizer
    from toxic_tagger.model.training import TrainPaths, build_trainer, pos_weight
    from toxic_tagger.runtime import seed_everything

    params, frames, root = bench_params(cfg, precision), comment_frames(cfg), Path(cfg["root"])
    phases = Phases()
    with tempfile.TemporaryDirectory(prefix="toxic-peers-train-") as tmp:
        started = time.perf_counter()
        seed_everything(params.seed)
        tokenizer = load_tokenizer(params.model.name, root)
        data = CommentDataModule(frames["train"], frames["val"], tokenizer, params.model.max_length,
                                 params.train.max_tokens_per_batch, params.train.max_batch_size, params.seed,
                                 params.train.batching)
        model = load_classifier(params.model.name, root, params.model.hidden_dropout, params.model.attention_dropout)
        module = ToxicClassifier.from_params(model, params.train,
                                             pos_weight(label_matrix(frames["train"]), params.train.pos_weight_power))
        trainer, _ = build_trainer(params, TrainPaths(*(Path(tmp) / name for name in ("checkpoints", "logs", "live",
                                                                                      "model"))))
        # first: its on_validation_end runs before ModelCheckpoint's saves (those count as `other`)
        trainer.callbacks.insert(0, LightningPhases(phases))
        trainer.fit(module, datamodule=data)
        wall = time.perf_counter() - started
    if cfg.get("export_to") and precision == "fp32":
        export_trained(module.model, tokenizer, params.model.max_length, params.model.name, cfg["export_to"])
    return {"side": "toxic-tagger", "precision": precision, "epochs_run": int(trainer.current_epoch),
            **phases.summary(wall)}


def export_trained(model, tokenizer, max_length: int, base_model: str, target: str) -> None:
    from toxic_tagger.model.export import export_model

    export_model(model.eval(), tokenizer, Path(target), thresholds=np.full(len(LABELS), 0.5), max_length=max_length,
                 extra={"base_model": base_model, "data_source": "bench_peers.py training part (last epoch)"})
