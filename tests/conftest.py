"""Shared fixtures: the tiny fixture CSV, a tiny random BERT (and an export of it written
without training), shrunken params, temp repos, and the skip-or-fail rule for missing tools.

Tests that train, run DVC or a browser carry `@pytest.mark.slow`; `pytest -m "not slow"`
leaves them out (see pyproject.toml's markers)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_CSV = ROOT / "tests" / "fixtures" / "comments.csv"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 2-layer, hidden-32 BERT with the packaged MiniLM tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from toxic_tagger.model.pretrained import resolve_model

    directory = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model("sentence-transformers/all-MiniLM-L6-v2"))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=512)
    torch.manual_seed(0)
    BertModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def shrunk_params_dict(model_dir: Path, **sections: dict) -> dict:
    """The repository's params.yaml as a dict, shrunk for tests, with `sections` merged in."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["threads"] = 1
    params["fetch"].update(source="tests/fixtures/comments.csv")
    params["balance_split"].update(val_fraction=0.2, test_fraction=0.2, clean_rows=10)
    params["model"].update(name=str(model_dir), max_length=64)
    params["train"].update(epochs=2, max_tokens_per_batch=512, max_batch_size=8, lr=1e-3, head_lr=1e-2, patience=2)
    params["evaluate"].update(bootstrap_samples=50)
    for name, values in sections.items():
        params[name].update(values)
    return params


@pytest.fixture
def tiny_params(tiny_model_dir: Path):
    """Typed Params from the shrunk params.yaml."""
    from toxic_tagger.config import load_params

    def build(tmp_path: Path, **sections: dict):
        path = tmp_path / "params.yaml"
        path.write_text(yaml.safe_dump(shrunk_params_dict(tiny_model_dir, **sections)))
        return load_params(path)

    return build


def fit_tiny(params, tmp: Path, with_baseline: bool = False) -> tuple:
    """Fine-tune `params`' model on the fixture CSV's train split and export it, all under `tmp`
    (checkpoints, logs, live, model; the TF-IDF baseline in `baseline` first when
    `with_baseline`): (TrainPaths, summary)."""
    from toxic_tagger.data.comments_csv import read_split
    from toxic_tagger.data.split import make_splits
    from toxic_tagger.model.baseline import save_baseline, train_baseline
    from toxic_tagger.model.training import TrainPaths, fit_and_export

    splits = make_splits(read_split(FIXTURE_CSV), params.balance_split, params.seed)
    baseline_dir = tmp / "baseline" if with_baseline else None
    if baseline_dir is not None:
        save_baseline(baseline_dir, train_baseline(splits.train, splits.val, params.baseline, params.seed))
    paths = TrainPaths(tmp / "checkpoints", tmp / "logs", tmp / "live", tmp / "model")
    summary = fit_and_export(params, splits.train, splits.val, paths, tmp, {"data_sha256": "x"},
                             baseline_dir=baseline_dir)
    return paths, summary


def in_ci() -> bool:
    """Whether this run is CI's (GitHub Actions and .ci/run set CI=true)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing_tool(reason: str) -> None:
    """Skip the calling test for a missing tool or file, with `reason`; in CI fail instead,
    because CI installs everything the suite needs and a skip there would hide a check."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, and CI must run this test)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def untrained_export(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """An exported model directory written, without any training, from the tiny random BERT
    (seeded random 6-way head) and a TF-IDF baseline fitted on the fixture CSV's train split,
    blended at weight 0.3 with fixed thresholds, by the same `export_model` the train stage
    calls. For fast tests that only read an export; `tiny_export` (slow) is the trained one."""
    import numpy as np
    import torch

    from toxic_tagger.config import load_params
    from toxic_tagger.data.comments_csv import read_split
    from toxic_tagger.data.split import make_splits
    from toxic_tagger.model.baseline import save_baseline, train_baseline
    from toxic_tagger.model.export import export_model
    from toxic_tagger.model.pretrained import load_classifier, load_tokenizer

    tmp = tmp_path_factory.mktemp("untrained-export")
    (tmp / "params.yaml").write_text(yaml.safe_dump(shrunk_params_dict(tiny_model_dir)))
    params = load_params(tmp / "params.yaml")
    splits = make_splits(read_split(FIXTURE_CSV), params.balance_split, params.seed)
    save_baseline(tmp / "baseline", train_baseline(splits.train, splits.val, params.baseline, params.seed))
    torch.manual_seed(0)
    export_model(load_classifier(str(tiny_model_dir)), load_tokenizer(str(tiny_model_dir)), tmp / "model",
                 thresholds=np.linspace(0.3, 0.7, 6), max_length=params.model.max_length,
                 extra={"base_model": str(tiny_model_dir)}, baseline_dir=tmp / "baseline", baseline_weights=0.3)
    return tmp / "model"


@pytest.fixture(scope="session")
def calibrated_export(tmp_path_factory: pytest.TempPathFactory, untrained_export: Path) -> Path:
    """`untrained_export`'s transformer and baseline exported again with a hand-made calibration
    (a different map per tag, one of them the identity) and truncation head_tail (8 head tokens):
    what the train stage writes with train.calibration auto and model.truncation head_tail."""
    import numpy as np

    from toxic_tagger.data.tokens import Truncation
    from toxic_tagger.evaluate.calibration import Calibration
    from toxic_tagger.evaluate.calibrators import TagCalibrator
    from toxic_tagger.model.export import export_model, load_exported

    exported = load_exported(untrained_export)
    calibration = Calibration((
        TagCalibrator("platt", scale=3.0, bias=-1.0), TagCalibrator("temperature", scale=0.5),
        TagCalibrator("isotonic", x=(0.0, 0.4, 0.6, 1.0), y=(0.0, 0.1, 0.9, 1.0)), TagCalibrator("none"),
        TagCalibrator("platt", scale=2.0, bias=0.5), TagCalibrator("isotonic", x=(0.0, 1.0), y=(0.2, 0.3))))
    target = tmp_path_factory.mktemp("calibrated-export") / "model"
    export_model(exported.model, exported.tokenizer, target, thresholds=np.linspace(0.3, 0.7, 6),
                 max_length=exported.max_length, extra={"base_model": exported.meta["base_model"]},
                 baseline_dir=untrained_export / "baseline", baseline_weights=0.3,
                 truncation=Truncation("head_tail", 8), calibration=calibration)
    return target


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path):
    """The tiny BERT fine-tuned for 2 epochs on the fixture CSV and exported: (paths, summary, params).
    It trains: tests that use it are marked slow."""
    from toxic_tagger.config import load_params

    tmp = tmp_path_factory.mktemp("train")
    # A fixed blend weight, so the export always carries the baseline (tuning is tested apart).
    (tmp / "params.yaml").write_text(yaml.safe_dump(shrunk_params_dict(tiny_model_dir, train={"baseline_weight": 0.3})))
    params = load_params(tmp / "params.yaml")
    paths, summary = fit_tiny(params, tmp, with_baseline=True)
    return paths, summary, params


def replace(params, section: str, **values):
    """A copy of typed `params` with some keys of one section changed."""
    return dataclasses.replace(params, **{section: dataclasses.replace(getattr(params, section), **values)})


def venv_env() -> dict[str, str]:
    """Environment whose `python` and `dvc` are this interpreter's (stage commands call `python`)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(GIT_AUTHOR_NAME="test", GIT_AUTHOR_EMAIL="test@example.com",
               GIT_COMMITTER_NAME="test", GIT_COMMITTER_EMAIL="test@example.com")
    return env


def run(cmd: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=venv_env(), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


PROJECT_FILES = ("dvc.yaml", "stages", "src", "tests/fixtures")


def make_repo(target: Path, params: dict) -> Path:
    """A fresh git + DVC repository holding this project's pipeline and `params`."""
    target.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(source, target / name)
    (target / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (target / ".gitignore").write_text("/data/\n/checkpoints/\n/models/\n/logs/\n__pycache__/\n")
    run(["git", "init", "-q"], target)
    run(["dvc", "init", "-q"], target)
    run(["dvc", "config", "core.analytics", "false"], target)
    run(["git", "add", "-A"], target)
    run(["git", "commit", "-qm", "init"], target)
    return target


def in_process(capsys, *args: str) -> tuple[int, str, str]:
    """toxic_tagger.cli.main in this process (saves the ~10 s import of a fresh interpreter):
    (exit status, stdout, stderr)."""
    from toxic_tagger.cli import main

    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(capsys, *args: str) -> str:
    """The message of a CLI call that must fail with one line and status 1."""
    code, _, err = in_process(capsys, *args)
    assert code == 1 and err.startswith("error: ") and err.count("\n") == 1, err
    return err.strip()
