"""Run one measured part of the benchmark, usually in a fresh process of its own.

    python bench/bench_child.py PART CONFIG_JSON RESULT_JSON

A fresh process per part keeps the peak resident memory (ru_maxrss) of training and of each
prediction path separate, and keeps one part's allocator and thread-pool state from helping
or hurting the next. CONFIG_JSON is the plain dict `bench.py` builds; the comments themselves
sit in a temporary JSON file it names (never inside the repository).
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "src")]

from bench_common import child_main, peak_rss_mb



def parts() -> dict:
    """Part name -> function(cfg) -> dict (imported late: they import torch)."""
    import bench_predict
    import bench_train
    from bench_report import FLIPPED

    return {
        "matmul": bench_predict.matmul,
        "tokenize": bench_predict.tokenize,
        "train_tutorial": bench_train.train_tutorial,
        "train_toxic_tagger": bench_train.train_toxic_tagger,
        "train_toxic_tagger_bf16": bench_train.train_toxic_tagger_bf16,
        **{f"train_toxic_tagger_{param}_flipped": partial(bench_train.train_toxic_tagger_flipped, param=param)
           for param in FLIPPED},
        "predict_tutorial": bench_predict.predict_tutorial,
        "predict_fp32": bench_predict.predict_fp32,
        "predict_int8": bench_predict.predict_int8,
        "predict_bf16": bench_predict.predict_bf16,
        "predict_ort_fp32": bench_predict.predict_ort_fp32,
        "predict_ort_int8": bench_predict.predict_ort_int8,
    }


def peers_part(name: str):
    """A part of bench_peers.py, importing only its own side's modules (so a side's peak RSS holds
    nothing of the other's): peers_train_<toxic_tagger|trainer>_<precision>,
    peers_predict_pipeline, peers_predict_<runtime>."""
    if name == "peers_predict_pipeline":
        import peers_predict

        return peers_predict.predict_pipeline
    if name.startswith("peers_predict_"):
        import peers_predict

        return partial(peers_predict.predict_toxic_tagger, runtime=name.removeprefix("peers_predict_"))
    side, _, precision = name.removeprefix("peers_train_").rpartition("_")
    if side == "toxic_tagger":
        import peers_train

        return partial(peers_train.train_toxic_tagger, precision=precision)
    if side == "trainer":
        import peers_trainer

        return partial(peers_trainer.train_trainer, precision=precision)
    raise KeyError(name)


def quiet_benchmark() -> None:
    """Silence notices that are expected here (validation is off on purpose, weights load bars)."""
    import warnings

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", message=".*validation_step.*no `val_dataloader`.*")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*is deprecated.*")


def run_part(name: str, cfg: dict) -> dict:
    """Run part `name` in this process with the configured torch threads; add its peak memory."""
    from toxic_tagger.runtime import configure_threads, quiet_libraries

    quiet_libraries()
    quiet_benchmark()
    configure_threads(cfg["threads"])
    result = (peers_part(name) if name.startswith("peers_") else parts()[name])(cfg)
    return {**result, "peak_rss_mb": peak_rss_mb()}


if __name__ == "__main__":
    child_main(run_part, sys.argv[1:])
