"""DVC stage `baseline`: TF-IDF (word + character n-grams) + logistic regression per tag.

Reads: params `seed`, `baseline`, `evaluate.bootstrap_samples`; --train, --val, --test.
Writes: --model (models/baseline/: JSON vocabulary and settings, safetensors weights, no
pickle) and --metrics (metrics/baseline.json, in the schema of metrics/eval.json, so
`dvc metrics diff` and `dvc exp show` put baseline and transformer side by side).
"""

import sys
from pathlib import Path

# Run this checkout's library, also inside DVC's experiment copies (.dvc/tmp/exps/...).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import logging
import time

from toxic_tagger.atomic_files import write_json
from toxic_tagger.config import Params
from toxic_tagger.data.comments_csv import read_split
from toxic_tagger.model.baseline import baseline_report, load_baseline, save_baseline, train_baseline
from toxic_tagger.runtime import run_stage, stage_paths

log = logging.getLogger("baseline")

def run(params: Params, root: Path) -> None:
    args = stage_paths(__doc__, "train", "val", "test", "model", "metrics")
    start = time.perf_counter()
    model = train_baseline(read_split(args.train), read_split(args.val), params.baseline, params.seed)
    log.info("fitted and tuned in %.1f s", time.perf_counter() - start)
    save_baseline(args.model, model)
    # Score what was saved, so the metrics describe the artifact, not the in-memory fit.
    splits = {"test": read_split(args.test), "val": read_split(args.val)}
    report = baseline_report(load_baseline(args.model), splits, params.evaluate.bootstrap_samples, params.seed)
    write_json(args.metrics, report)
    log.info("mean AUROC: test %s, val %s", report["test"]["mean_auroc"], report["val"]["mean_auroc"])

if __name__ == "__main__":
    run_stage(run)
