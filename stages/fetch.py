"""DVC stage `fetch`: `fetch.source` -> one validated raw table.

Reads: params `seed`, `fetch`; the source file or URL (not `sample`).
Writes: --out (CSV in the Jigsaw schema), --meta (JSON: source, sha256, rows, tag counts).
"""

import sys
from pathlib import Path

# Run this checkout's library, also inside DVC's experiment copies (.dvc/tmp/exps/...).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import logging

from toxic_tagger.atomic_files import write_csv, write_json
from toxic_tagger.config import Params
from toxic_tagger.data.fetch import fetch_comments, tag_counts
from toxic_tagger.runtime import run_stage, stage_paths

log = logging.getLogger("fetch")

def run(params: Params, root: Path) -> None:
    args = stage_paths(__doc__, "out", "meta")
    fetched = fetch_comments(params.fetch, params.seed, root)
    counts = tag_counts(fetched.table)
    write_csv(args.out, fetched.table)
    write_json(args.meta, {"source": fetched.source, "sha256": fetched.sha256, "rows": len(fetched.table), **counts})
    log.info("%d rows from %s (sha256 %s); positives %s", len(fetched.table), fetched.source, fetched.sha256[:12], counts)

if __name__ == "__main__":
    run_stage(run)
