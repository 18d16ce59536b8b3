"""`train.refit_on_val`: the final fit on every labelled row the train stage has, train + val.

The usual fit (training.py) chooses on val what a refit cannot choose for itself: the number
of epochs (the best epoch's), the blend weights, the calibration and the thresholds. `refit`
then trains a fresh copy of `model.name` on train + val for that many epochs, with the same
params and seed and no validation, refits the blended TF-IDF baseline on the same rows
(`refit_baseline`), and training.py exports both with the settings val chose.
It assumes the refit model's scores are on the scale of the first fit's, which a larger
training set moves slightly; the test split, never seen by either fit, measures the result.

Input: typed params, the two splits' rows, the epochs, the tokenizer and truncation, the
per-tag BCE pos_weight of the combined rows. Output: the trained transformers model; the
baseline's model directory.
"""

from __future__ import annotations

import time
from pathlib import Path

import lightning as L
import pandas as pd

from toxic_tagger import TEXT_COLUMN
from toxic_tagger.config import Params
from toxic_tagger.data.comments_csv import label_matrix
from toxic_tagger.data.datamodule import CommentDataModule
from toxic_tagger.data.tokens import Truncation
from toxic_tagger.model.baseline import fit_baseline, load_baseline, save_baseline, to_model
from toxic_tagger.model.classifier import ToxicClassifier
from toxic_tagger.model.precision import lightning_precision
from toxic_tagger.model.pretrained import load_classifier
from toxic_tagger.model.progress_log import LogProgress
from toxic_tagger.runtime import seed_everything


def refit(params: Params, rows: pd.DataFrame, epochs: int, root, tokenizer, truncation: Truncation,
          pos_weight: list[float] | None) -> tuple[object, float]:
    """A fresh `model.name` trained on `rows` (train + val) for `epochs`: (model in eval mode,
    seconds). One process (check_params refuses refit_on_val with devices or num_nodes > 1)."""
    train = params.train
    seed_everything(params.seed)
    data = CommentDataModule(rows, rows.iloc[:0], tokenizer, params.model.max_length, train.max_tokens_per_batch,
                             train.max_batch_size, params.seed, train.batching, truncation=truncation)
    model = load_classifier(params.model.name, root, params.model.hidden_dropout, params.model.attention_dropout)
    module = ToxicClassifier.from_params(model, train, pos_weight)
    trainer = L.Trainer(
        max_epochs=epochs, accelerator=train.accelerator, devices=1, num_nodes=1, deterministic=True,
        precision=lightning_precision(train.precision), use_distributed_sampler=False,
        reload_dataloaders_every_n_epochs=1, limit_val_batches=0, num_sanity_val_steps=0,
        enable_checkpointing=False, logger=False, callbacks=[LogProgress(train.progress_every_n_steps)],
        enable_model_summary=False,
    )
    started = time.perf_counter()
    trainer.fit(module, datamodule=data)
    return module.model.eval(), time.perf_counter() - started


def refit_baseline(params: Params, rows: pd.DataFrame, fitted_dir: Path, out: Path) -> Path:
    """The TF-IDF baseline of `fitted_dir` refitted on `rows` (train + val) with params.baseline
    and the seed, saved to `out` (returned). It keeps the first fit's val-tuned thresholds: the
    blend reads only its probabilities, and val cannot tune anything a model trained on it."""
    thresholds = load_baseline(fitted_dir).thresholds
    fitted = fit_baseline(rows[TEXT_COLUMN].tolist(), label_matrix(rows), params.baseline, params.seed)
    save_baseline(out, to_model(fitted, thresholds))
    return out
