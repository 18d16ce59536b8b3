"""Training side by side, the peer's side: the Hugging Face Trainer recipe a user would pick.

`AutoModelForSequenceClassification(problem_type="multi_label_classification")` (BCE with
logits on float multi-hot labels) from the same base model, the comments tokenized in one batch
call with truncation at max_length (what `datasets.map(batched=True)` does), `DataCollatorWithPadding`,
`train_sampling_strategy="group_by_length"` (LengthGroupedSampler), batch size 32 (train and
eval), AdamW (the Trainer's default `adamw_torch_fused`) at train.lr and train.weight_decay
with a linear schedule warming up over train.warmup_fraction of the steps, evaluation and a
checkpoint after each epoch, bf16=True for bf16. Every other setting is the Trainer's default
(gradient clipping at 1.0, logging every 500 steps, the checkpoint's own dropout, ...); the
part returns all of them (`training_arguments`). peers_train.py is the other side.
Phases (bench_common.Phases): forward (compute_loss), backward (the rest of training_step),
optimizer (clipping, AdamW step, LR schedule, zero_grad: up to on_step_end), validation
(evaluate), other (tokenization before train(), batch collation, checkpoints, logging).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_common import Phases, bench_params, load_comments

from toxic_tagger import LABELS
from toxic_tagger.evaluate.metrics import per_tag_auroc

BATCH_SIZE = 32


def encoded(tokenizer, texts: list[str], labels: np.ndarray, max_length: int) -> list[dict]:
    """The peer's dataset: one batch tokenizer call, truncated at max_length, float multi-hot labels."""
    batch = tokenizer(texts, truncation=True, max_length=max_length)
    return [{**{key: values[i] for key, values in batch.items()}, "labels": labels[i].tolist()}
            for i in range(len(texts))]


def train_trainer(cfg: dict, precision: str) -> dict:
    from transformers import AutoModelForSequenceClassification, DataCollatorWithPadding, set_seed

    from toxic_tagger.model.pretrained import load_tokenizer, resolve_model

    params, root = bench_params(cfg, precision), Path(cfg["root"])
    (train_texts, train_labels), (val_texts, val_labels) = load_comments(cfg, "train"), load_comments(cfg, "val")
    phases = Phases()
    with tempfile.TemporaryDirectory(prefix="toxic-peers-trainer-") as tmp:
        started = time.perf_counter()
        set_seed(params.seed)
        tokenizer = load_tokenizer(params.model.name, root)
        model = AutoModelForSequenceClassification.from_pretrained(
            resolve_model(params.model.name, root), num_labels=len(LABELS), problem_type="multi_label_classification")
        train = encoded(tokenizer, train_texts, train_labels, params.model.max_length)
        val = encoded(tokenizer, val_texts, val_labels, params.model.max_length)
        trainer = timed_trainer(phases)(model=model, args=training_arguments(params, Path(tmp)), train_dataset=train,
                                        eval_dataset=val, processing_class=tokenizer,
                                        data_collator=DataCollatorWithPadding(tokenizer),
                                        compute_metrics=mean_auroc_metric)
        trainer.train()
        wall = time.perf_counter() - started
    return {"side": "Trainer", "precision": precision, "epochs_run": round(trainer.state.epoch or 0),
            "training_arguments": json.loads(trainer.args.to_json_string()), **phases.summary(wall)}


def training_arguments(params, output_dir: Path):
    """Every setting the bench gives the Trainer; the rest are its defaults."""
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(output_dir), num_train_epochs=params.train.epochs, seed=params.seed,
        per_device_train_batch_size=BATCH_SIZE, per_device_eval_batch_size=BATCH_SIZE,
        learning_rate=params.train.lr, weight_decay=params.train.weight_decay, lr_scheduler_type="linear",
        warmup_steps=params.train.warmup_fraction,  # a float in [0, 1): a fraction of all steps (transformers 5)
        train_sampling_strategy="group_by_length", eval_strategy="epoch", save_strategy="epoch",
        bf16=params.train.precision == "bf16", use_cpu=True, report_to="none", disable_tqdm=True,
    )


def mean_auroc_metric(prediction) -> dict:
    """compute_metrics: val mean AUROC over the six tags from the logits (sigmoid is monotonic)."""
    return {"mean_auroc": float(np.nanmean(per_tag_auroc(np.asarray(prediction.label_ids), prediction.predictions)))}


def timed_trainer(phases: Phases):
    """A Trainer subclass that times forward (compute_loss), backward (the rest of training_step),
    the optimizer (training_step's end to on_step_end) and evaluate; it changes nothing else."""
    from transformers import Trainer, TrainerCallback

    class StepEnd(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            phases.lap("optimizer")

    class TimedTrainer(Trainer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.add_callback(StepEnd())

        def compute_loss(self, model, inputs, *args, **kwargs):
            if not model.training:  # evaluation's loss: part of validation
                return super().compute_loss(model, inputs, *args, **kwargs)
            phases.mark = time.perf_counter()
            result = super().compute_loss(model, inputs, *args, **kwargs)
            phases.lap("forward")
            phases.count(inputs["attention_mask"])
            return result

        def training_step(self, *args, **kwargs):
            loss = super().training_step(*args, **kwargs)
            phases.lap("backward")
            return loss

        def evaluate(self, *args, **kwargs):
            started = time.perf_counter()
            metrics = super().evaluate(*args, **kwargs)
            phases.seconds["validation"] += time.perf_counter() - started
            phases.val_mean_auroc.append(float(metrics["eval_mean_auroc"]))
            return metrics

    return TimedTrainer
