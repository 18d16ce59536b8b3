"""dvc.yaml declares, for every stage, the library modules its script runs.

A module a stage imports but does not list is invisible to DVC: editing it leaves `dvc repro`
and `dvc status` saying the stage is up to date, and the cached outputs describe old code. The
test follows imports from each stage script through `src/toxic_tagger/` (lazy imports inside
functions included) and compares them with the stage's `deps`.
"""

from __future__ import annotations

import ast
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "toxic_tagger"
SRC = ROOT / "src" / PACKAGE

# Plumbing every stage shares, left out of `deps` on purpose: argument parsing, logging, seeding
# and thread setup, atomic writes, path resolution, the params schema (the values are tracked
# through `params:`) and the package's label constants; and each room's `__init__.py`, which
# holds only its docstring. Listing them would rerun every stage on any edit to them; the README
# says to force a rerun (`dvc repro -f`) after one that alters results.
ROOMS = ("data", "model", "evaluate", "predict")
PLUMBING = {"__init__", "config/__init__", "config/schema", "config/loading", "config/rules", "checksums", "errors",
            "atomic_files", "paths", "runtime",
            *(f"{room}/__init__" for room in ROOMS)}


def imported_modules(path: Path) -> set[str]:
    """Names of `toxic_tagger` modules that `path` imports anywhere in its source."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from toxic_tagger import x` may name a module x as well as a constant
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] != PACKAGE:
                continue
            found.add("__init__")  # importing anything of the package runs its __init__
            for depth in range(2, len(parts) + 1):  # toxic_tagger.data.fetch: data/__init__, data/fetch
                module = "/".join(parts[1:depth])
                if (SRC / module / "__init__.py").is_file():
                    found.add(f"{module}/__init__")
                elif (SRC / f"{module}.py").is_file():
                    found.add(module)
    return found


def closure(script: Path) -> set[str]:
    """Every `toxic_tagger` module reachable by imports from `script`."""
    seen: set[str] = set()
    todo = list(imported_modules(script))
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(imported_modules(SRC / f"{module}.py"))
    return seen


def stages() -> dict:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def stage_script(stage: dict) -> Path:
    args = shlex.split(stage["cmd"])
    assert args[0] == "python" and args[1].startswith("stages/"), stage["cmd"]
    return ROOT / args[1]


def declared_modules(stage: dict) -> set[str]:
    prefix = f"src/{PACKAGE}/"
    declared = {dep[len(prefix):] for dep in stage["deps"] if dep.startswith(prefix)}
    modules = {path.relative_to(SRC).with_suffix("").as_posix() for path in SRC.rglob("*.py")}
    # a listed folder (src/toxic_tagger/data) declares every module in it
    return {m for m in modules if f"{m}.py" in declared or any(m.startswith(f"{d.rstrip('/')}/") for d in declared)}


@pytest.mark.parametrize("name", sorted(stages()))
def test_stage_declares_the_modules_it_runs(name):
    stage = stages()[name]
    script = stage_script(stage)
    assert f"stages/{script.name}" in stage["deps"], f"{name}: its own script is not a dep"
    missing = closure(script) - PLUMBING - declared_modules(stage)
    assert not missing, f"dvc.yaml stage {name!r} imports but does not declare: " + ", ".join(
        f"src/{PACKAGE}/{module}.py" for module in sorted(missing))


@pytest.mark.parametrize("name", sorted(stages()))
def test_stage_deps_exist(name):
    code = [dep for dep in stages()[name]["deps"] if dep.startswith(("src/", "stages/"))]
    missing = [dep for dep in code if not (ROOT / dep).exists()]
    assert not missing, f"dvc.yaml stage {name!r} lists files that do not exist: {missing}"


def test_import_scan_follows_lazy_imports_into_rooms(tmp_path):
    script = tmp_path / "stage.py"
    script.write_text("from toxic_tagger.data.comments_csv import read_split\n"
                      "def run():\n    from toxic_tagger.predict import torch_runtime\n"
                      "    import toxic_tagger.evaluate.curves\n")
    assert imported_modules(script) == {"__init__", "data/__init__", "data/comments_csv", "predict/__init__",
                                        "predict/torch_runtime", "evaluate/__init__", "evaluate/curves"}


def test_a_missing_dep_is_reported(tmp_path):
    """The check can fail: train without its classifier module listed."""
    stage = dict(stages()["train"])
    stage["deps"] = [dep for dep in stage["deps"] if not dep.endswith("model/classifier.py")]
    assert "model/classifier" in closure(stage_script(stage)) - PLUMBING - declared_modules(stage)
