"""What bench_peers.py states beside its numbers: every setting of both sides (`settings`, in
the results JSON) and the notes a reader needs to judge a run (`notes`, printed under the table)."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from peers_predict import PIPELINE_BATCH_SIZE, WARMUP_COMMENTS, pipeline_settings
from peers_trainer import BATCH_SIZE

LIGHTNING_TRAINER = ("toxic_tagger.model.training.build_trainer: max_epochs=train.epochs, deterministic=True, "
                     "precision from train.precision (32-true | bf16-mixed), ModelCheckpoint (best by train.monitor "
                     "+ last), EarlyStopping(train.patience), TensorBoard and DVCLive loggers, num_sanity_val_steps=0")


def settings(args: argparse.Namespace, params, cfg: dict) -> dict:
    from toxic_tagger.model.precision import native_bf16

    return {
        "quick": args.quick, "epochs": params.train.epochs, "max_length_training": params.model.max_length,
        "precisions": args.precisions, "runtimes": args.runtimes, "native_bf16": native_bf16(),
        "threads": cfg["threads"], "seed": params.seed, "params_overrides": args.set,
        "data": {"source": args.data, "balance_split": asdict(params.balance_split),
                 "samples_asked": {"train": args.train_comments, "val": args.val_comments,
                                   "predict (test split)": args.predict_comments}},
        "toxic_tagger_training": {"model": asdict(params.model), "train": asdict(params.train),
                                  "trainer": LIGHTNING_TRAINER},
        "trainer_training": {
            "model": "AutoModelForSequenceClassification.from_pretrained(model.name, num_labels=6, "
                     "problem_type='multi_label_classification'); the checkpoint's own dropout",
            "data": "tokenizer(texts, truncation=True, max_length=model.max_length) in one call; "
                    "DataCollatorWithPadding(tokenizer)",
            "set": {"num_train_epochs": params.train.epochs, "per_device_train_batch_size": BATCH_SIZE,
                    "per_device_eval_batch_size": BATCH_SIZE, "learning_rate": params.train.lr,
                    "weight_decay": params.train.weight_decay, "lr_scheduler_type": "linear",
                    "warmup_steps": params.train.warmup_fraction, "train_sampling_strategy": "group_by_length",
                    "eval_strategy": "epoch", "save_strategy": "epoch", "bf16": "precision == bf16",
                    "use_cpu": True, "report_to": "none", "disable_tqdm": True, "seed": params.seed},
            "defaults": "every other TrainingArguments field; all of them: training.<precision>.trainer."
                        "training_arguments"},
        "prediction": {
            "model": cfg["predict_model"], "trained_by_bench": cfg["export_to"] is not None,
            "pipeline": {"task": "text-classification", **pipeline_settings(-1), "max_length": "the export's",
                         "device": "cpu"},
            "toxic_tagger": {"command": "toxic-tagger predict --model M --input CSV --output CSV --runtime R "
                                        "--threads T --onnx-cache DIR",
                             "max_tokens_per_batch": cfg["max_tokens_per_batch"]},
            "warmup_comments_steady_state": WARMUP_COMMENTS},
    }


def notes(args: argparse.Namespace, results: dict) -> list[str]:
    data, s, prediction = results["data"], results["settings"], results["prediction"]
    where = data.get("path") or f"synthetic sample; missing {data['missing']}"
    out = [f"data: {data['kind']} comments ({where}), split as the split stage does "
           f"({s['data']['balance_split']}); {data['train_comments']} train, {data['val_comments']} val, "
           f"{data['predict_comments']} predicted (test split)",
           f"training: {s['epochs']} epoch(s), max_length {s['max_length_training']}, seed {s['seed']}, "
           f"{s['threads'] or 'all'} thread(s); toxic-tagger is the train stage with params.yaml's train section "
           "(two learning rates, pos_weight, frozen embeddings, [CLS]-only last layer, token-budget buckets); the "
           f"Trainer: batch {BATCH_SIZE}, one learning rate (train.lr), its defaults otherwise (settings in the JSON)",
           "train samples/s leave validation out (both sides validate after each epoch, timed apart); "
           "val mean AUROC is the transformer's alone (no baseline blend) after the last epoch"]
    short = [f"{side} {precision} ran {run['epochs_run']}" for precision, sides in results["training"].items()
             for side, run in sides.items() if run["epochs_run"] != s["epochs"]]
    if short:
        out.append(f"NOT the same epochs ({s['epochs']} asked; early stopping?): " + ", ".join(short))
    model = s["prediction"]["model"]
    out.append(f"prediction model: {model}" + (" (trained by this run's toxic-tagger fp32 part: a short run, so "
                                               "AUROC says little about quality; parity still holds)"
                                               if s["prediction"]["trained_by_bench"] else ""))
    measured = ", ".join(f"{r} {v['comments_per_s']:.1f}/s" for r, v in prediction["runtimes"].items())
    out.append(f"steady state, toxic-tagger runtimes: {measured}; fastest at transformer AUROC parity: "
               f"{prediction['fastest_runtime']}")
    builds = ", ".join(f"{r} {v['load_seconds']:.1f} s" for r, v in prediction["runtimes"].items())
    out.append(f"load (+ graph build for onnxruntime / openvino, then cached) in the steady-state parts: {builds}; "
               "the whole processes find the built graphs in the cache")
    pipe = prediction["pipeline"]
    out.append(f"pipeline: batch {PIPELINE_BATCH_SIZE} in input order, max_length {pipe['max_length']} (the export's), "
               f"load {pipe['load_seconds']:.1f} s")
    if "bf16" in s["precisions"] and not s["native_bf16"]:
        out.append("bf16 asked on a CPU without bf16 units: EMULATED on both sides, slow")
    if args.quick:
        out.append("--quick: tiny sizes, a smoke run; the ratios say little")
    others, cores = results["other_processes_cores"], results["machine"]["cores_available"]
    busy = "BUSY, numbers are noisy and low" if others > 0.25 else "quiet"
    out.append(f"machine {busy}: other processes kept {others:.2f} of {cores} cores busy on average during the run")
    return out
