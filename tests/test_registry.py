"""The model registry, DVC's way: the real `artifacts:` block of dvc.yaml, GTO version tags
(`toxic-tagger@v1.0.0`), files in a DVC remote, fetched by `dvc artifacts get` elsewhere.

Small stand-in files take the place of the model and the data, so no pipeline runs. Set-up calls
the DVC CLI in-process (`dvc.cli.main`) and GTO's Python API, because each CLI start costs
seconds; fetching is the real `dvc artifacts get` in a separate process, from another folder.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run, venv_env

# Slow: DVC and GTO run. DVC's own internals (pygtrie steps) warn when its CLI runs in-process;
# not ours to fix.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:_NoneStep.value:DeprecationWarning")]


def real_dvc_yaml() -> dict:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())


def declared_paths(dvc_yaml: dict) -> dict:
    """`vars: - paths: {...}` of dvc.yaml, the one place the pipeline's paths live."""
    return next(entry["paths"] for entry in dvc_yaml["vars"] if isinstance(entry, dict) and "paths" in entry)


def test_artifacts_block_declares_model_and_dataset():
    dvc_yaml = real_dvc_yaml()
    artifacts, paths = dvc_yaml["artifacts"], declared_paths(dvc_yaml)
    assert artifacts["toxic-tagger"]["type"] == "model"
    assert artifacts["toxic-tagger"]["path"] == paths["model"]
    assert artifacts["jigsaw-comments"]["type"] == "dataset"
    assert artifacts["jigsaw-comments"]["path"] == paths["raw"]
    for artifact in artifacts.values():
        assert artifact["desc"].strip() and artifact["labels"]


def dvc(*args: str) -> None:
    """One DVC CLI command, run in this process (in the current directory)."""
    from dvc.cli import main

    assert main(list(args)) == 0, f"dvc {' '.join(args)} failed"


def write_stand_ins(repo: Path, weights: str) -> None:
    model = repo / "models" / "toxic-tagger"
    model.mkdir(parents=True, exist_ok=True)
    (model / "model.safetensors").write_text(weights)
    (model / "labels.json").write_text('["toxic", "severe_toxic"]\n')
    (repo / "data").mkdir(exist_ok=True)
    (repo / "data" / "raw.csv").write_text("id,comment_text,toxic\n1,hello,0\n")


def artifacts_get(cwd: Path, *args: str) -> None:
    cmd = [sys.executable, "-m", "dvc", "artifacts", "get", *args]
    result = subprocess.run(cmd, cwd=cwd, env=venv_env(), capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(cmd)}:\n{result.stdout}\n{result.stderr}"


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git + DVC repo with the real artifacts block, a local remote, and two model versions."""
    import gto.api

    repo = tmp_path / "registry"
    repo.mkdir()
    for key, value in venv_env().items():
        if key.startswith("GIT_"):
            monkeypatch.setenv(key, value)  # GTO's annotated tags need a tagger identity
    monkeypatch.chdir(repo)
    run(["git", "init", "-q"], repo)
    dvc("init", "-q")
    dvc("config", "core.analytics", "false")
    dvc("remote", "add", "-d", "storage", str(tmp_path / "remote"))
    (repo / "dvc.yaml").write_text(yaml.safe_dump({"artifacts": real_dvc_yaml()["artifacts"]}, sort_keys=False))
    for version, weights in (("v1.0.0", "weights one"), ("v1.1.0", "weights two")):
        write_stand_ins(repo, weights)
        dvc("add", "-q", "models/toxic-tagger", "data/raw.csv")
        dvc("push", "-q")
        run(["git", "add", "-A"], repo)
        run(["git", "commit", "-qm", f"model {version}"], repo)
        gto.api.register(str(repo), "toxic-tagger", "HEAD", version=version, message=f"toxic-tagger {version}")
    gto.api.register(str(repo), "jigsaw-comments", "HEAD", version="v1.0.0", message="data v1.0.0")
    return repo


def test_artifacts_get_fetches_registered_versions_from_the_remote(registry: Path, tmp_path: Path):
    tags = run(["git", "tag", "--list"], registry).stdout.split()
    assert tags == ["jigsaw-comments@v1.0.0", "toxic-tagger@v1.0.0", "toxic-tagger@v1.1.0"]
    # Only the remote holds the files now, so what arrives must come from `dvc push`.
    shutil.rmtree(registry / ".dvc" / "cache")
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    artifacts_get(consumer, str(registry), "toxic-tagger", "--rev", "v1.0.0", "-o", "model-v1")
    assert (consumer / "model-v1" / "model.safetensors").read_text() == "weights one"
    assert (consumer / "model-v1" / "labels.json").read_text() == '["toxic", "severe_toxic"]\n'
    artifacts_get(consumer, str(registry), "jigsaw-comments", "-o", "raw.csv")
    assert (consumer / "raw.csv").read_text() == "id,comment_text,toxic\n1,hello,0\n"


def test_latest_version_is_the_newest_tag(registry: Path):
    import dvc.api

    shown = dvc.api.artifacts_show("toxic-tagger", repo=str(registry))
    newest = run(["git", "rev-list", "-n", "1", "toxic-tagger@v1.1.0"], registry).stdout.strip()
    assert shown == {"path": "models/toxic-tagger", "rev": newest}
