"""Packaging: the light install's metadata, --version, the base model's checksum, a quiet broken pipe."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest
from conftest import ROOT

import toxic_tagger
from toxic_tagger.errors import ToxicTaggerError
from toxic_tagger.model import pretrained
from toxic_tagger.predict.runtimes import require_extra


def test_scoring_needs_no_pipeline_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"])
    for heavy in ("lightning", "dvc", "onnx", "tensorboard", "fastapi"):
        assert heavy not in core, heavy
    assert set(project["optional-dependencies"]) >= {"pipeline", "onnx", "serve", "dev"}
    pinned = {line.split("==")[0].lower() for line in (ROOT / "constraints.txt").read_text().splitlines()
              if "==" in line}
    for requirement in project["dependencies"] + project["optional-dependencies"]["pipeline"]:
        name = requirement.split(">")[0].split("<")[0].split("=")[0].strip().lower()
        assert name in pinned, f"{name} has no exact version in constraints.txt"


def test_version_flag():
    result = subprocess.run([sys.executable, "-m", "toxic_tagger.cli", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == f"toxic-tagger {toxic_tagger.__version__}"


def test_packaged_weights_are_checked_against_their_sha256(monkeypatch):
    pretrained._packaged_minilm.cache_clear()
    monkeypatch.setattr(pretrained, "MINILM_SHA256", "0" * 64)
    try:
        with pytest.raises(ToxicTaggerError, match="is not the packaged MiniLM's"):
            pretrained.resolve_model("sentence-transformers/all-MiniLM-L6-v2")
    finally:
        pretrained._packaged_minilm.cache_clear()
    monkeypatch.undo()
    assert (pretrained.resolve_model("all-MiniLM-L6-v2").rstrip("/")).endswith("model")


def test_a_missing_extra_is_named():
    with pytest.raises(ToxicTaggerError, match=r"pip install 'toxic-tagger\[serve\]'"):
        require_extra("no_such_module_here", "serve", "serve")


@pytest.mark.slow  # a CLI process loading torch and a model
def test_output_into_a_closed_pipe_ends_quietly(untrained_export):
    # ~500 kB of JSON lines: far past a pipe's buffer, so the writer meets the closed pipe
    command = (f"yes 'a comment to tag' | head -3000 | {sys.executable} -m toxic_tagger.cli predict "
               f"--model {untrained_export} --input - | head -1")
    result = subprocess.run(command, shell=True, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.count("\n") == 1
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
