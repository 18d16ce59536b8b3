"""DVC stage `train`: fine-tune `model.name`, export the best epoch with tuned thresholds.

Reads: params `seed`, `threads`, `model`, `train`; --train, --val (CSV), --raw-meta
(provenance), --baseline (the TF-IDF baseline blended in, weight chosen on val).
Writes: --checkpoints (best.ckpt, last.ckpt, run.json; kept across reruns to resume an
unfinished fit of the same params and data), --logs (TensorBoard), --live (DVCLive metrics
and per-step/per-epoch training curves), --model (exported
safetensors directory), --summary (metrics/train.json: threads, epochs, best score, time).
"""

import sys
from pathlib import Path

# Run this checkout's library, also inside DVC's experiment copies (.dvc/tmp/exps/...).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from toxic_tagger.atomic_files import read_json, write_json
from toxic_tagger.config import Params
from toxic_tagger.data.comments_csv import read_split
from toxic_tagger.model.training import TrainPaths, fit_and_export
from toxic_tagger.runtime import run_stage, stage_paths


def run(params: Params, root: Path) -> None:
    args = stage_paths(__doc__, "train", "val", "raw-meta", "baseline", "checkpoints", "logs", "live", "model", "summary")
    paths = TrainPaths(checkpoints=args.checkpoints, logs=args.logs, live=args.live, model=args.model)
    raw = read_json(args.raw_meta)
    provenance = {"data_source": raw["source"], "data_sha256": raw["sha256"]}
    summary = fit_and_export(params, read_split(args.train), read_split(args.val), paths, root, provenance,
                             baseline_dir=args.baseline)
    if summary is None:  # a process of rank > 0 under strategy ddp: rank 0 writes the outputs
        return
    write_json(args.summary, summary)
    # one line for logs, where Lightning's progress bar shows only its last state
    print(f"train: {summary['epochs_run']} epochs in {summary['train_seconds']} s, best epoch "
          f"{summary['best_epoch'] + 1}; val mean AUROC {summary['val_mean_auroc']:.4f} exported "
          f"({summary['val_mean_auroc_transformer']:.4f} transformer alone) -> {args.model}")

if __name__ == "__main__":
    run_stage(run)
