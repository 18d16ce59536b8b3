"""The `train` stage's logic: fine-tune with Lightning, pick the best epoch, blend with the
TF-IDF baseline, calibrate each tag and tune thresholds on the calibrated val scores, export
(after a refit on train + val when train.refit_on_val, refit.py).

Input: typed params, the balanced train / natural val splits and the baseline model directory
(blended in). Output: checkpoints (best and last) in `checkpoints/`, TensorBoard and DVCLive
logs, the exported model directory, and a summary dict for metrics/train.json.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import lightning as L
import numpy as np
import pandas as pd
import torch
from dvclive.lightning import DVCLiveLogger
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger

from toxic_tagger import LABELS, TEXT_COLUMN
from toxic_tagger.config import Params
from toxic_tagger.config.rules import positions_problem
from toxic_tagger.data.comments_csv import label_matrix
from toxic_tagger.data.datamodule import CommentDataModule
from toxic_tagger.data.tokens import Truncation
from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.evaluate.calibration import Calibration, choose_calibrator
from toxic_tagger.evaluate.calibrators import KINDS
from toxic_tagger.evaluate.metrics import per_tag_auroc, prf, tune_thresholds
from toxic_tagger.model.baseline import load_baseline, predict_baseline
from toxic_tagger.model.blend import blend, calibrate, tune_weights, weights_by_tag
from toxic_tagger.model.classifier import ToxicClassifier
from toxic_tagger.model.export import export_model
from toxic_tagger.model.inference import predict_encoded
from toxic_tagger.model.precision import lightning_precision, warn_if_emulated
from toxic_tagger.model.pretrained import load_classifier, load_tokenizer
from toxic_tagger.model.progress_log import LogProgress
from toxic_tagger.model.refit import refit, refit_baseline
from toxic_tagger.model.resume import LAST, RandomState, epochs_completed, fingerprint, mark_finished, resume_point
from toxic_tagger.runtime import configure_threads, seed_everything

LOG_EVERY_N_STEPS = 10


@dataclass(frozen=True)
class TrainPaths:
    checkpoints: Path
    logs: Path  # TensorBoard event files
    live: Path  # DVCLive: metrics.json and per-step plots for dvc exp show / dvc plots
    model: Path


def monitor_mode(monitor: str) -> str:
    """Whether `monitor` (one of config.MONITORS, checked on load) improves downwards or upwards."""
    return "min" if monitor == "val/loss" else "max"


def build_trainer(params: Params, paths: TrainPaths) -> tuple[L.Trainer, ModelCheckpoint]:
    """A Lightning Trainer on train.accelerator / devices / num_nodes / strategy. Checkpoints:
    best (the monitor's) and last (each epoch end and, when train.checkpoint_every_n_steps > 0,
    every N steps), written by global rank 0 only, as are the loggers."""
    train = params.train
    mode = monitor_mode(train.monitor)
    checkpoint = ModelCheckpoint(dirpath=paths.checkpoints, filename="best", monitor=train.monitor, mode=mode,
                                 save_top_k=1, enable_version_counter=False)
    callbacks = [checkpoint, EarlyStopping(monitor=train.monitor, mode=mode, patience=train.patience),
                 RandomState(), LogProgress(train.progress_every_n_steps), last_checkpoint(paths.checkpoints)]
    if train.checkpoint_every_n_steps:
        callbacks.append(last_checkpoint(paths.checkpoints, every_n_train_steps=train.checkpoint_every_n_steps))
    loggers = [
        TensorBoardLogger(save_dir=str(paths.logs), name="", version="", default_hp_metric=False),
        # dvc.yaml declares DVCLive's outputs itself, and `dvc exp run` records the experiment.
        DVCLiveLogger(dir=str(paths.live), dvcyaml=False, save_dvc_exp=False),
    ]
    warn_if_emulated(train.precision)
    trainer = L.Trainer(
        max_epochs=train.epochs, accelerator=train.accelerator, devices=train.devices, num_nodes=train.num_nodes,
        strategy=train.strategy, deterministic=True, precision=lightning_precision(train.precision),
        # the datamodule's batch samplers shard by rank themselves (a disjoint, equal share each)
        use_distributed_sampler=False, reload_dataloaders_every_n_epochs=1,  # see TrainerEpochBatches
        callbacks=callbacks, logger=loggers,
        log_every_n_steps=LOG_EVERY_N_STEPS, num_sanity_val_steps=0, enable_model_summary=False,
    )
    return trainer, checkpoint


def last_checkpoint(folder: Path, **when) -> ModelCheckpoint:
    """Writes `folder`/last.ckpt (the newest state, for resuming) at each validation end, or on
    `when` (e.g. every_n_train_steps=N). Not `save_last=True`: Lightning 2.6 writes that only
    when the monitored checkpoint improved, so a crash could lose every epoch since the best."""
    return ModelCheckpoint(dirpath=folder, filename=LAST.removesuffix(".ckpt"), monitor=None, save_top_k=1,
                           enable_version_counter=False, **when)


def fit_and_export(params: Params, train: pd.DataFrame, val: pd.DataFrame, paths: TrainPaths, root: Path,
                   provenance: dict, baseline_dir: Path | None = None) -> dict | None:
    """Train (resuming an unfinished fit of the same params and data from checkpoints/), restore
    the best checkpoint, choose the blend weight, the calibration and the thresholds on val,
    refit on train + val when train.refit_on_val, export.

    Returns the summary for metrics/train.json; None in processes of rank > 0 (they only train)."""
    threads = configure_threads(params.threads)
    seed_everything(params.seed)
    tokenizer = load_tokenizer(params.model.name, root)
    truncation = Truncation(params.model.truncation, params.model.head_tokens)
    data = CommentDataModule(train, val, tokenizer, params.model.max_length, params.train.max_tokens_per_batch,
                             params.train.max_batch_size, params.seed, params.train.batching, truncation=truncation)
    model = load_classifier(params.model.name, root, params.model.hidden_dropout, params.model.attention_dropout)
    # the rule check_params applies before DVC deletes anything, again for `dvc repro -s train`
    problem = positions_problem(params, getattr(model.config, "max_position_embeddings", None))
    if problem:
        raise ToxicTaggerError(f"params.yaml: {problem}")
    module = ToxicClassifier.from_params(model, params.train, pos_weight(label_matrix(train), params.train.pos_weight_power))
    trainer, checkpoint = build_trainer(params, paths)
    run = fingerprint(params, train, val)
    resume = resume_point(paths.checkpoints, run)
    started = time.perf_counter()
    trainer.fit(module, datamodule=data, ckpt_path=resume, weights_only=True)
    seconds = time.perf_counter() - started
    if not trainer.is_global_zero:  # strategy ddp runs this script once per process: rank 0 writes
        return None
    mark_finished(paths.checkpoints, run)
    best_epoch, best_score = restore_best(module, checkpoint)
    data.setup()  # a no-op unless strategy ddp_spawn tokenized in its worker processes only
    val_labels = label_matrix(val)
    transformer = predict_encoded(module.model, data.datasets["val"].ids, tokenizer.pad_token_id,
                                  params.train.max_tokens_per_batch)
    weights, blended, blend_scores = choose_blend(params, val, val_labels, transformer, baseline_dir)
    calibration, probs = choose_calibration(params, val_labels, blended)
    thresholds = tune_thresholds(val_labels, probs)  # on the calibrated scores prediction emits
    with tempfile.TemporaryDirectory(prefix="toxic-tagger-refit-") as scratch:
        blended_dir = baseline_dir if weights.any() else None
        refitted = (_refit(params, train, val, best_epoch + 1, root, tokenizer, truncation, blended_dir, Path(scratch))
                    if params.train.refit_on_val else {})
        export_model(refitted.get("model", module.model), tokenizer, paths.model, thresholds, params.model.max_length,
                     export_meta(params, provenance, refitted.get("summary")),
                     baseline_dir=refitted.get("baseline_dir", baseline_dir),
                     baseline_weights=weights, blend_space=params.train.blend_space,
                     val_scores={"mean_auroc": _mean_auroc(val_labels, probs),
                                 "auroc": per_tag_auroc(val_labels, probs), "f1": prf(val_labels, probs, thresholds)["f1"]},
                     truncation=truncation, calibration=calibration)
    return {
        "threads": threads, "epochs_run": epochs_completed(paths.checkpoints / LAST), "best_epoch": best_epoch,
        "monitor": params.train.monitor, "best_score": best_score,
        "val_mean_auroc": _mean_auroc(val_labels, probs),
        "val_mean_auroc_transformer": _mean_auroc(val_labels, transformer),
        # baseline_weight: the mean of the per-tag weights (0 = transformer only).
        "baseline_weight": round(float(np.mean(weights)), 4), "baseline_weight_per_tag": weights_by_tag(weights),
        "val_mean_auroc_by_baseline_weight": blend_scores,
        "calibration_per_tag": calibration.kinds(),
        "train_seconds": round(seconds, 1), "train_rows": len(train), "val_rows": len(val),
        **({"refit_on_val": refitted["summary"]} if refitted else {}),
    }


def export_meta(params: Params, provenance: dict, refit: dict | None) -> dict:
    """toxic_tagger.json's provenance: base model, data, params, and the refit when there was one
    (its epochs and rows; not its seconds, so a rerun exports the same file)."""
    return {"base_model": params.model.name, "threshold_source": "val", **provenance,
            **({"refit_on_val": {key: refit[key] for key in ("epochs", "rows", "baseline")}} if refit else {}),
            "params": {"seed": {"seed": params.seed}, "model": asdict(params.model), "train": asdict(params.train)}}


def choose_calibration(params: Params, labels: np.ndarray, blended: np.ndarray) -> tuple[Calibration, np.ndarray]:
    """The per-tag calibration of the blended val scores (n, 6) and the calibrated scores, through
    the same `calibrate` every runtime applies. train.calibration auto: per tag, the kind with
    the lowest cross-fitted val Brier score, "none" (the raw score) a candidate too; none: identity."""
    if params.train.calibration == "none":
        return Calibration.identity(), blended
    calibration = choose_calibrator(labels, blended, params.seed, kinds=KINDS)
    return calibration, calibrate(calibration, blended)


def _refit(params: Params, train: pd.DataFrame, val: pd.DataFrame, epochs: int, root: Path, tokenizer,
           truncation: Truncation, baseline_dir: Path | None, scratch: Path) -> dict:
    """train.refit_on_val: {"model": trained on train + val for `epochs`, "baseline_dir": the
    blended baseline (`baseline_dir`, None when not blended) refitted on train + val under
    `scratch`, "summary": for the export's metadata and metrics/train.json}."""
    rows = pd.concat([train, val], ignore_index=True)
    model, seconds = refit(params, rows, epochs, root, tokenizer, truncation,
                           pos_weight(label_matrix(rows), params.train.pos_weight_power))
    refitted = {"model": model, "summary": {"epochs": epochs, "rows": len(rows), "baseline": baseline_dir is not None,
                                            "seconds": round(seconds, 1)}}
    if baseline_dir is not None:
        refitted["baseline_dir"] = refit_baseline(params, rows, baseline_dir, scratch / "baseline")
    return refitted


def choose_blend(params: Params, val: pd.DataFrame, labels: np.ndarray, transformer: np.ndarray,
                 baseline_dir: Path | None) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Per-tag blend weights of the baseline (6,): train.baseline_weight for every tag, or tuned
    per tag on val when it is null; the blended val probabilities; the val mean AUROC per shared
    grid weight (empty when not tuned)."""
    if baseline_dir is None or params.train.baseline_weight == 0:
        return np.zeros(len(LABELS)), transformer, {}
    baseline = predict_baseline(load_baseline(baseline_dir), val[TEXT_COLUMN].tolist())
    space = params.train.blend_space
    if params.train.baseline_weight is not None:
        weights = np.full(len(LABELS), float(params.train.baseline_weight))
        return weights, blend(transformer, baseline, weights, space), {}
    weights, scores = tune_weights(labels, transformer, baseline, space)
    return weights, blend(transformer, baseline, weights, space), scores


def _mean_auroc(labels: np.ndarray, probs: np.ndarray) -> float:
    return float(np.nanmean(per_tag_auroc(labels, probs)))


def pos_weight(labels: np.ndarray, power: float) -> list[float] | None:
    """Per-tag BCE pos_weight (negatives / positives) ** power; None when power is 0."""
    if power == 0:
        return None
    positives = labels.sum(axis=0)
    negatives = len(labels) - positives
    return [float(w) for w in (negatives / np.maximum(positives, 1)) ** power]


def restore_best(module: ToxicClassifier, checkpoint: ModelCheckpoint) -> tuple[int, float]:
    """Load the best epoch's weights (the pipeline's own checkpoint; tensors only); return its
    epoch and monitored score, read from the file: under strategy ddp_spawn the callback's
    scores stayed in the worker processes (only the path comes back)."""
    if not checkpoint.best_model_path:
        raise ToxicTaggerError("training produced no checkpoint (no validation epoch ran)")
    state = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)
    module.load_state_dict(state["state_dict"])
    saved = state["callbacks"][checkpoint.state_key]
    return int(state["epoch"]), float(saved["best_model_score"])
