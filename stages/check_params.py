"""DVC stage `check_params`, the head of the pipeline: every rule on params.yaml, before any
stage's outputs are deleted.

DVC deletes a stage's outputs just before running its command, so a value only the stage
itself would refuse used to cost the outputs of the run before. This stage runs first on every
`dvc repro` / `dvc exp run` (always_changed; fetch depends on its output) and stops the run with
one line while every earlier output is still in place.

Reads: params.yaml (all of it), the data source named by fetch.source, model.name's config.
Writes: --out (a small JSON whose content only changes with the model's position table, so a
passing check never makes later stages rerun).
"""

import sys
from pathlib import Path

# Run this checkout's library, also inside DVC's experiment copies (.dvc/tmp/exps/...).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from toxic_tagger.atomic_files import write_json
from toxic_tagger.config import Params, check_params
from toxic_tagger.model.pretrained import max_positions
from toxic_tagger.runtime import run_stage, stage_paths


def run(params: Params, root: Path) -> None:
    args = stage_paths(__doc__, "out")
    checked = check_params(root / "params.yaml", root, max_positions)
    write_json(args.out, {"params": "params.yaml", "model_max_positions": max_positions(checked.model.name, root)})
    print("check_params: params.yaml ok")

if __name__ == "__main__":
    run_stage(run)
