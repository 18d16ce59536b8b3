"""DVC behaviours the README promises users about their uncommitted params.yaml edits."""

import json
import time

import pytest
import yaml
from conftest import run

STAGE = """\
import json, yaml
p = yaml.safe_load(open("params.yaml"))
json.dump({"m": p["a"] * 10 + p["b"]}, open("m.json", "w"))
"""
DVC_YAML = {"stages": {"s": {"cmd": "python s.py", "deps": ["s.py"], "params": ["a", "b"],
                             "metrics": [{"m.json": {"cache": False}}]}}}


def make_tiny_repo(path):
    path.mkdir()
    (path / "s.py").write_text(STAGE)
    (path / "params.yaml").write_text("a: 1\nb: 1\n")
    (path / "dvc.yaml").write_text(yaml.safe_dump(DVC_YAML))
    for cmd in (["git", "init", "-q"], ["dvc", "init", "-q"], ["dvc", "repro", "-q"], ["git", "add", "-A"],
                ["git", "commit", "-qm", "base"]):
        run(cmd, path)
    return path


def params(path):
    return yaml.safe_load((path / "params.yaml").read_text())


@pytest.mark.slow
def test_exp_run_keeps_uncommitted_edits_and_queue_snapshots_them(tmp_path):
    repo = make_tiny_repo(tmp_path / "repo")
    (repo / "params.yaml").write_text("a: 1\nb: 2\n")  # uncommitted edit
    run(["dvc", "exp", "run", "-q", "-S", "a=3"], repo)
    assert params(repo) == {"a": 3, "b": 2}  # the edit survives, the override stays applied
    assert json.loads((repo / "m.json").read_text())["m"] == 32
    run(["dvc", "exp", "run", "-q", "--queue", "-n", "queued", "-S", "a=4"], repo)
    (repo / "params.yaml").write_text("a: 3\nb: 5\n")  # edited after queueing
    run(["dvc", "queue", "start", "-j", "1"], repo)
    for _ in range(120):  # the queue worker runs in the background: poll until the run is listed
        rows = json.loads(run(["dvc", "exp", "show", "--json"], repo).stdout)
        exps = [r for e in rows if e.get("experiments") for x in e["experiments"] for r in x["revs"]]
        done = [r for r in exps if r.get("name") == "queued" and r["data"].get("metrics")]
        if done:
            break
        time.sleep(1)
    data = done[0]["data"]
    assert data["params"]["params.yaml"]["data"] == {"a": 4, "b": 2}  # snapshot at queue time
    assert data["metrics"]["m.json"]["data"]["m"] == 42
    assert params(repo) == {"a": 3, "b": 5}  # the workspace was not touched by the queued run
