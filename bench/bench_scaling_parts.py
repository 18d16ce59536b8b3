"""The measured parts of the scaling benchmark: each pipeline stage's library path, as its
script in stages/ calls it, on one corpus size; one part per fresh process.

    python bench/bench_scaling_parts.py PART CONFIG_JSON RESULT_JSON

CONFIG_JSON (written by bench_scaling.py): `params` (a params.yaml shrunk from the
repository's), `work` (this size's folder: the source CSV and every stage's outputs), the caps (`train_comments`, `val_comments`, `score_comments`) and
`threads`. Each part returns its wall `seconds` (after imports, the stage's own work), `steps`
(seconds per piece) and, added here, `peak_rss_mb` and `rss_start_mb` (after imports).

What is capped: `train_fit` fine-tunes on a seeded sample of `train_comments` train rows for
one epoch (validation on `val_comments` val rows); `evaluate` runs the transformer on the first
`score_comments` test rows (the split is already a seeded random draw). Everything else
reads, tokenizes and scores the whole splits: `train_corpus` is what the train stage does
with the whole corpus besides its steps (tokenizing both splits into the data module, the
epoch's batch plan, the resume fingerprint, the baseline's val scores for the blend).
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "src")]

from bench_common import child_main, peak_rss_mb, rss_mb  # noqa: E402

from toxic_tagger import LABELS, TEXT_COLUMN  # noqa: E402
from toxic_tagger.atomic_files import write_csv, write_json  # noqa: E402
from toxic_tagger.config import load_params  # noqa: E402
from toxic_tagger.data.comments_csv import label_matrix, read_split  # noqa: E402

ROOT = HERE.parent


class Steps:
    """Wall seconds per named piece of a part."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str):
        started = time.perf_counter()
        yield
        self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - started, 3)

    def result(self, **extra) -> dict:
        return {"seconds": round(sum(self.seconds.values()), 3), "steps": self.seconds, **extra}


def fetch(cfg: dict, params) -> dict:
    from toxic_tagger.data.fetch import fetch_comments, tag_counts

    work, step = Path(cfg["work"]), Steps()
    with step("read_validate"):
        fetched = fetch_comments(params.fetch, params.seed, ROOT)
    with step("write"):
        counts = tag_counts(fetched.table)
        write_csv(work / "raw.csv", fetched.table)
        write_json(work / "raw.meta.json", {"source": fetched.source, "sha256": fetched.sha256,
                                            "rows": len(fetched.table), **counts})
    return step.result(rows=len(fetched.table), source_mb=round(Path(params.fetch.source).stat().st_size / 2**20, 1))


def balance_split(cfg: dict, params) -> dict:
    from toxic_tagger.data.split import make_splits, split_summary

    work, step = Path(cfg["work"]), Steps()
    with step("read"):
        raw = read_split(work / "raw.csv")
    with step("split"):
        splits = make_splits(raw, params.balance_split, params.seed)
        summary = split_summary(splits)
    with step("write"):
        for name in ("train", "val", "test"):
            write_csv(work / f"{name}.csv", getattr(splits, name))
        write_json(work / "split.json", summary)
    return step.result(**{f"{name}_rows": summary[name]["rows"] for name in ("train", "val", "test")})


def token_stats(cfg: dict, params) -> dict:
    import pandas as pd

    from toxic_tagger.data.token_stats import histogram_rows, length_summary
    from toxic_tagger.data.tokens import token_lengths
    from toxic_tagger.model.pretrained import load_tokenizer

    work, step = Path(cfg["work"]), Steps()
    with step("load_tokenizer"):
        tokenizer = load_tokenizer(params.model.name, ROOT)
    lengths = {}
    for split in ("train", "val", "test"):
        with step("read"):
            texts = read_split(work / f"{split}.csv")[TEXT_COLUMN].tolist()
        with step("tokenize"):
            lengths[split] = token_lengths(tokenizer, texts)
    with step("summarise_write"):
        stats = {split: length_summary(values, params.token_stats.max_lengths, params.train.max_tokens_per_batch,
                                       params.train.max_batch_size) for split, values in lengths.items()}
        write_json(work / "token_stats.json", {"model_max_length": params.model.max_length, **stats})
        write_csv(work / "token_lengths.csv", pd.DataFrame(histogram_rows(lengths)))
    train = stats["train"]
    return step.result(train_tokens={k: train[k] for k in ("p50", "p90", "p99", "mean")})


def baseline(cfg: dict, params) -> dict:
    from dataclasses import replace

    import numpy as np

    from toxic_tagger.evaluate.metrics import tune_thresholds
    from toxic_tagger.model.baseline import (
        baseline_report, fit_baseline, load_baseline, predict_baseline, save_baseline, to_model,
    )

    work, step = Path(cfg["work"]), Steps()
    with step("read"):
        train, val = read_split(work / "train.csv"), read_split(work / "val.csv")
    # model.baseline.train_baseline, its two halves timed apart
    with step("fit"):
        fitted = fit_baseline(train[TEXT_COLUMN].tolist(), label_matrix(train), params.baseline, params.seed)
    with step("tune_on_val"):
        model = to_model(fitted, np.full(len(LABELS), 0.5))
        val_probs = predict_baseline(model, val[TEXT_COLUMN].tolist())
        model = replace(model, thresholds=tune_thresholds(label_matrix(val), val_probs))
    with step("save_load"):
        save_baseline(work / "baseline", model)
        model = load_baseline(work / "baseline")
    with step("read"):
        splits = {"test": read_split(work / "test.csv"), "val": val}
    with step("report"):
        report = baseline_report(model, splits, params.evaluate.bootstrap_samples, params.seed)
        write_json(work / "baseline.json", report)
    return step.result(features=int(model.coef.shape[1]), test_mean_auroc=report["test"]["mean_auroc"])


def train_corpus(cfg: dict, params) -> dict:
    """The train stage's work that grows with the corpus, outside the optimizer steps."""
    from toxic_tagger.data.batching import BucketBatchSampler
    from toxic_tagger.data.datamodule import CommentDataModule
    from toxic_tagger.model.baseline import load_baseline, predict_baseline
    from toxic_tagger.model.pretrained import load_tokenizer
    from toxic_tagger.model.resume import fingerprint
    from toxic_tagger.model.training import pos_weight

    work, step, p = Path(cfg["work"]), Steps(), params.train
    with step("read"):
        train, val = read_split(work / "train.csv"), read_split(work / "val.csv")
    with step("tokenize_datamodule"):
        data = CommentDataModule(train, val, load_tokenizer(params.model.name, ROOT), params.model.max_length,
                                 p.max_tokens_per_batch, p.max_batch_size, params.seed, p.batching)
        data.setup()
    with step("batch_plan"):
        sampler = BucketBatchSampler(data.datasets["train"].lengths, p.max_tokens_per_batch, p.max_batch_size,
                                     params.seed)
        sampler.plan(1)
    with step("pos_weight_fingerprint"):
        pos_weight(label_matrix(train), p.pos_weight_power)
        fingerprint(params, train, val)
    with step("baseline_val_scores"):
        predict_baseline(load_baseline(work / "baseline"), val[TEXT_COLUMN].tolist())
    return step.result(train_rows=len(train), val_rows=len(val), batches_per_epoch=sampler.total_batches)


def train_fit(cfg: dict, params) -> dict:
    """fit_and_export (the train stage's call) on a seeded sample: `train_comments` train rows,
    `val_comments` val rows, one epoch; the optimizer steps timed by a callback."""
    import lightning as L

    from toxic_tagger.model import training

    step_seconds: list[tuple[float, int]] = []  # (seconds, comments) per optimizer step

    class StepTimer(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
            self.started = time.perf_counter()

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            step_seconds.append((time.perf_counter() - self.started, int(batch["labels"].shape[0])))

    build_trainer = training.build_trainer

    def timed_trainer(params, paths):  # the stage's Trainer, plus the step timer
        trainer, checkpoint = build_trainer(params, paths)
        trainer.callbacks.append(StepTimer())
        return trainer, checkpoint

    work, step = Path(cfg["work"]), Steps()
    with step("read_sample"):
        train = read_split(work / "train.csv")
        train = train.sample(n=min(cfg["train_comments"], len(train)), random_state=params.seed)
        val = read_split(work / "val.csv")
        val = val.sample(n=min(cfg["val_comments"], len(val)), random_state=params.seed)
    paths = training.TrainPaths(work / "checkpoints", work / "logs", work / "live", work / "model")
    training.build_trainer = timed_trainer  # fit_and_export looks it up when called
    try:
        with step("fit_and_export"):
            summary = training.fit_and_export(params, train, val, paths, ROOT, {"data_source": "bench"},
                                              baseline_dir=work / "baseline")
    finally:
        training.build_trainer = build_trainer
    timed = step_seconds[1:] or step_seconds  # the first step sets up kernels and allocator pools
    seconds, comments = sum(s for s, _ in timed), sum(n for _, n in timed)
    return step.result(train_comments=len(train), val_comments=len(val), steps_run=len(step_seconds),
                       step_seconds_per_1000=round(1000 * seconds / comments, 2),
                       fit_seconds=summary["train_seconds"])


def evaluate(cfg: dict, params) -> dict:
    """stages/evaluate.py with the transformer run on `score_comments` test rows: the other rows'
    probabilities are the baseline's (the report's and curves' cost depends on rows, not values)."""
    from toxic_tagger.evaluate.curves import write_curves
    from toxic_tagger.evaluate.metrics import split_report
    from toxic_tagger.model.baseline import predict_baseline
    from toxic_tagger.model.blend import blend
    from toxic_tagger.model.export import load_exported
    from toxic_tagger.model.inference import predict_proba

    work, step = Path(cfg["work"]), Steps()
    with step("load_model"):
        exported = load_exported(work / "model")
    report, scored = {}, 0
    for split in ("test", "val"):
        with step("read"):
            frame = read_split(work / f"{split}.csv")
            texts = frame[TEXT_COLUMN].tolist()
        with step("baseline_scores"):
            probs = predict_baseline(exported.baseline, texts)
        if split == "test":
            n = min(cfg["score_comments"], len(texts))
            with step("transformer_scores"):
                transformer = predict_proba(exported.model, exported.tokenizer, texts[:n], exported.max_length,
                                            params.evaluate.max_tokens_per_batch, progress=False)
                probs[:n] = blend(transformer, probs[:n], exported.baseline_weight, exported.blend_space)
            scored = n
        with step("report_bootstrap"):
            labels = label_matrix(frame)
            report[split] = split_report(labels, probs, exported.thresholds, params.evaluate.bootstrap_samples,
                                         params.seed)
        if split == "test":
            with step("curves"):
                write_curves(work / "plots", labels, probs, exported.thresholds)
    with step("write"):
        write_json(work / "eval.json", report)
    per_1000 = 1000 * step.seconds["transformer_scores"] / max(scored, 1)
    return step.result(scored_comments=scored, test_rows=report["test"]["rows"], val_rows=report["val"]["rows"],
                       transformer_seconds_per_1000=round(per_1000, 2))


PARTS = {"fetch": fetch, "balance_split": balance_split, "token_stats": token_stats, "baseline": baseline,
         "train_corpus": train_corpus, "train_fit": train_fit, "evaluate": evaluate}


def run_part(name: str, cfg: dict) -> dict:
    """Run part `name` in this process; add its memory readings (MiB)."""
    import torch  # noqa: F401  (imported before the start reading: every part's stage imports it)

    from toxic_tagger.runtime import configure_threads, quiet_libraries

    quiet_libraries()
    configure_threads(cfg["threads"])
    start = rss_mb()
    params = load_params(cfg["params"])
    result = PARTS[name](cfg, params)
    return {**result, "rss_start_mb": round(start, 1), "peak_rss_mb": round(peak_rss_mb(), 1)}


if __name__ == "__main__":
    child_main(run_part, sys.argv[1:])
