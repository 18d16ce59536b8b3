"""`toxic-tagger report`: Markdown params/metrics diff against a base revision of a real git + DVC repo.

The repo is a hand-written one-stage dvc.yaml whose params and metrics files are written by
the test (two commits), so no pipeline runs; DVC does (slow).
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import run, venv_env

pytestmark = pytest.mark.slow

DVC_YAML = {"stages": {"train": {"cmd": "python -c pass", "params": ["train.lr", "train.epochs"],
                                 "metrics": [{"metrics/eval.json": {"cache": False}}]}}}


def commit_state(repo: Path, lr: float, auroc: float, message: str) -> None:
    (repo / "params.yaml").write_text(yaml.safe_dump({"train": {"lr": lr, "epochs": 2}}))
    (repo / "metrics").mkdir(exist_ok=True)
    (repo / "metrics" / "eval.json").write_text(json.dumps({"test": {"mean_auroc": auroc, "micro_f1": 0.5}}))
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", message], repo)


@pytest.fixture(scope="module")
def two_commit_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git + DVC repo: `base` tag with lr 0.001 / AUROC 0.81, HEAD with lr 0.0003 / AUROC 0.87."""
    repo = tmp_path_factory.mktemp("report-repo")
    run(["git", "init", "-q"], repo)
    run(["dvc", "init", "-q"], repo)
    run(["dvc", "config", "core.analytics", "false"], repo)
    (repo / "dvc.yaml").write_text(yaml.safe_dump(DVC_YAML, sort_keys=False))
    commit_state(repo, lr=0.001, auroc=0.81, message="base")
    run(["git", "tag", "base"], repo)
    commit_state(repo, lr=0.0003, auroc=0.87, message="change")
    return repo


def report(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toxic_tagger.cli", "report", *args], cwd=cwd,
                          env=venv_env(), capture_output=True, text=True, check=False)


def table_row(markdown: str, *cells: str) -> bool:
    """Whether a GFM table row holds exactly these leading cells (DVC pads them with spaces)."""
    pattern = r"^\|\s*" + r"\s*\|\s*".join(re.escape(c) for c in cells) + r"\s*\|"
    return re.search(pattern, markdown, flags=re.MULTILINE) is not None


def test_report_lists_changed_params_and_metrics(two_commit_repo: Path):
    result = report(two_commit_repo, "--base", "base")
    assert result.returncode == 0, result.stderr
    markdown = result.stdout
    assert "### Metrics" in markdown and "### Params" in markdown and "versus `base`" in markdown
    assert markdown.index("### Params") < markdown.index("### Metrics")  # the cause before its effects
    assert table_row(markdown, "params.yaml", "train.lr", "0.001", "0.0003")
    assert table_row(markdown, "metrics/eval.json", "test.mean_auroc", "0.81", "0.87", "0.06")
    # Unchanged values are left out, so the comment shows only what the change did.
    assert "train.epochs" not in markdown and "micro_f1" not in markdown


def test_report_to_file_with_plots(two_commit_repo: Path, tmp_path: Path):
    plots = tmp_path / "dvc_plots"
    (plots / "static").mkdir(parents=True)
    (plots / "index.html").write_text("<html></html>")
    (plots / "static" / "roc.png").write_bytes(b"\x89PNG")
    out = tmp_path / "out" / "report.md"
    out.parent.mkdir()  # --output's folder must exist, as for predict
    out.write_text("last run's report\n")  # replaced only with --overwrite (refusals: test_hostile_inputs.py)
    result = report(tmp_path, "--base", "base", "--repo", str(two_commit_repo), "--output", str(out),
                    "--plots-dir", str(plots), "--plots-url", "https://ci.example/run/1", "--overwrite")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    markdown = out.read_text()
    assert table_row(markdown, "params.yaml", "train.lr", "0.001", "0.0003")
    assert "![static/roc.png](../dvc_plots/static/roc.png)" in markdown
    assert "- [index.html](../dvc_plots/index.html)" in markdown
    assert "[https://ci.example/run/1](https://ci.example/run/1)" in markdown


def test_report_without_changes_says_so(two_commit_repo: Path):
    result = report(two_commit_repo, "--base", "HEAD")
    assert result.returncode == 0, result.stderr
    assert "No metric changed." in result.stdout and "No param changed." in result.stdout


def test_report_errors_are_one_line(two_commit_repo: Path, tmp_path: Path):
    missing = report(two_commit_repo, "--base", "no-such-branch")
    assert missing.returncode == 1
    assert missing.stderr.strip() == (f"error: report: base revision 'no-such-branch' not found in "
                                      f"{two_commit_repo.resolve()} (fetch it first?)")
    too_long = report(two_commit_repo, "--base", "base", "--output", "a" * 300 + ".md")  # over the name limit
    assert too_long.returncode == 1 and too_long.stderr.count("\n") == 1
    assert too_long.stderr.startswith(f"error: {'a' * 300}.md: cannot write: File name too long")
    outside = report(tmp_path, "--base", "main")
    assert outside.returncode == 1
    assert outside.stderr.strip() == (f"error: report: {tmp_path.resolve()} is not inside a DVC "
                                      "repository (no .dvc/ folder found)")
