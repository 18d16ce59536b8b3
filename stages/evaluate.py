"""DVC stage `evaluate`: score the exported model on val and test.

Reads: params `seed`, `threads`, `evaluate`; --model (exported directory), --val, --test,
--splits (metrics/split.json, for the model card).
Writes: --metrics (metrics/eval.json: per split, per tag AUROC with 95% CI, precision, recall,
F1 at the tuned thresholds and at 0.5, support; micro/macro F1; mean AUROC; `calibration`:
Brier score and ECE per tag before and after the export's calibration; `bias`: identity-subgroup
AUCs of `toxic` and the final score; `error_analysis` of val; `val_in_training`: true when the
model was refitted on train + val, so its val numbers are in-sample), --plots (test split: ROC and
precision-recall curves per tag, confusion at the thresholds, reliability diagrams before and
after calibration, subgroup AUCs), --errors (the worst val errors per tag, CSV) and --card
(the model card, Markdown, written next to the exported model).
"""

import sys
from pathlib import Path

# Run this checkout's library, also inside DVC's experiment copies (.dvc/tmp/exps/...).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np

from toxic_tagger import ID_COLUMN, TEXT_COLUMN
from toxic_tagger.atomic_files import atomic_path, read_json, write_csv, write_json
from toxic_tagger.config import Params
from toxic_tagger.data.comments_csv import label_matrix, read_split
from toxic_tagger.data.tokens import token_lengths
from toxic_tagger.evaluate.bias import bias_report, load_lexicon, subgroup_masks
from toxic_tagger.evaluate.calibration_report import calibration_report, reliability_tables
from toxic_tagger.evaluate.curves import bias_frame, write_curves
from toxic_tagger.evaluate.error_analysis import error_summary, top_errors
from toxic_tagger.evaluate.metrics import split_report
from toxic_tagger.evaluate.model_card import render_card
from toxic_tagger.model.blend import calibrate
from toxic_tagger.model.export import load_exported
from toxic_tagger.predict.torch_runtime import predict_exported
from toxic_tagger.runtime import configure_threads, run_stage, stage_paths


def run(params: Params, root: Path) -> None:
    args = stage_paths(__doc__, "model", "val", "test", "splits", "metrics", "plots", "errors", "card")
    threads = configure_threads(params.threads)
    exported = load_exported(args.model)
    lexicon = load_lexicon()
    report: dict = {"threads": threads, "thresholds_from": "val"}
    if exported.meta.get("refit_on_val"):  # the exported model trained on val: its val metrics are in-sample
        report["val_in_training"] = True
    for split in ("test", "val"):
        frame = read_split(getattr(args, split))
        texts, labels = frame[TEXT_COLUMN].tolist(), label_matrix(frame)
        blended = predict_exported(exported, texts, params.evaluate.max_tokens_per_batch, calibrated=False)
        probs = calibrate(exported.calibration, blended)  # what predict_exported returns: the final scores
        report[split] = split_report(labels, probs, exported.thresholds, params.evaluate.bootstrap_samples, params.seed)
        report[split]["calibration"] = calibration_report(labels, blended, probs, exported.calibration)
        report[split]["bias"] = bias_report(texts, labels[:, 0], probs[:, 0], lexicon)
        if split == "test":
            tables = {**reliability_tables(labels, blended, probs), "bias.csv": bias_frame(report[split]["bias"])}
            write_curves(args.plots, labels, probs, exported.thresholds, extra=tables)
        else:
            tokens = token_lengths(exported.tokenizer, texts)
            identity = np.logical_or.reduce(list(subgroup_masks(texts, lexicon).values()))  # (n,) any subgroup
            where = {"tokens": tokens, "identity": identity, "max_length": exported.max_length}
            write_csv(args.errors, top_errors(frame[ID_COLUMN].tolist(), texts, labels, probs, exported.thresholds,
                                              **where))
            report["error_analysis"] = {"file": str(args.errors),
                                        **error_summary(labels, probs, exported.thresholds, **where),
                                        **({"in_sample": True} if report.get("val_in_training") else {})}
    write_json(args.metrics, report)
    test = report["test"]
    print(f"evaluate: test mean AUROC {test['mean_auroc']:.4f}, micro-F1 {test['micro_f1']:.3f}, "
          f"macro-F1 {test['macro_f1']:.3f}, mean ECE {test['calibration']['mean']['ece_before']:.4f} -> "
          f"{test['calibration']['mean']['ece_after']:.4f} (calibrated), bias final score "
          f"{test['bias']['final_score']} ({test['rows']} comments) -> {args.metrics} "
          f"(per tag: toxic-tagger table {args.metrics})")
    card = render_card(exported.meta, read_json(args.splits), report, exported.baseline_weight)
    with atomic_path(args.card) as tmp:
        tmp.write_text(card, encoding="utf-8")

if __name__ == "__main__":
    run_stage(run)
