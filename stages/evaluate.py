"""DVC stage `evaluate`: score the exported model on val and test.

Reads: params `seed`, `threads`, `evaluate`; --model (exported directory), --val, --test,
--splits (metrics/split.json, for the model card).
Writes: --metrics (metrics/eval.json: per tag AUROC with 95% CI, precision, recall, F1 at
the tuned thresholds and at 0.5, support; micro/macro F1; mean AUROC; threads used) and
--plots (test split: ROC and precision-recall curves per tag, confusion at the thresholds) and
--card (the model card, Markdown, written next to the exported model).
"""

import sys
from pathlib import Path

# Run this checkout's library, also inside DVC's experiment copies (.dvc/tmp/exps/...).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from toxic_tagger import TEXT_COLUMN
from toxic_tagger.atomic_files import atomic_path, read_json, write_json
from toxic_tagger.config import Params
from toxic_tagger.data.comments_csv import label_matrix, read_split
from toxic_tagger.evaluate.curves import write_curves
from toxic_tagger.evaluate.metrics import split_report
from toxic_tagger.evaluate.model_card import render_card
from toxic_tagger.model.export import load_exported
from toxic_tagger.predict.torch_runtime import predict_exported
from toxic_tagger.runtime import configure_threads, run_stage, stage_paths


def run(params: Params, root: Path) -> None:
    args = stage_paths(__doc__, "model", "val", "test", "splits", "metrics", "plots", "card")
    threads = configure_threads(params.threads)
    exported = load_exported(args.model)
    report: dict = {"threads": threads, "thresholds_from": "val"}
    for split in ("test", "val"):
        frame = read_split(getattr(args, split))
        probs = predict_exported(exported, frame[TEXT_COLUMN].tolist(), params.evaluate.max_tokens_per_batch)
        labels = label_matrix(frame)
        report[split] = split_report(labels, probs, exported.thresholds, params.evaluate.bootstrap_samples, params.seed)
        if split == "test":
            write_curves(args.plots, labels, probs, exported.thresholds)
    write_json(args.metrics, report)
    test = report["test"]
    print(f"evaluate: test mean AUROC {test['mean_auroc']:.4f}, micro-F1 {test['micro_f1']:.3f}, "
          f"macro-F1 {test['macro_f1']:.3f} ({test['rows']} comments) -> {args.metrics} "
          f"(per tag: toxic-tagger table {args.metrics})")
    card = render_card(exported.meta, read_json(args.splits), report, exported.baseline_weight)
    with atomic_path(args.card) as tmp:
        tmp.write_text(card, encoding="utf-8")

if __name__ == "__main__":
    run_stage(run)
