"""Resume after a crash: the train stage goes on from checkpoints/last.ckpt only when it is an
unfinished fit of the same params and data (fast: the decision on hand-made folders), and a
`dvc repro` killed mid-epoch resumes on the next `dvc repro` to the metrics of an uninterrupted
run (slow: DVC and training)."""

import dataclasses
import json
import os
import signal
import subprocess
import time

import pytest
import torch
from conftest import FIXTURE_CSV, make_repo, run, shrunk_params_dict, venv_env

from toxic_tagger.data.comments_csv import read_split
from toxic_tagger.model.resume import RUN_FILE, fingerprint, mark_finished, resume_point


def lines():
    said = []
    return said, said.append


def saved_fit(folder, run_id, step=4, finished=False):
    folder.mkdir(parents=True, exist_ok=True)
    torch.save({"global_step": step}, folder / "last.ckpt")
    (folder / "best.ckpt").write_bytes(b"old best")
    (folder / RUN_FILE).write_text(json.dumps({"fingerprint": run_id, "finished": finished}))


def test_an_unfinished_fit_of_the_same_run_resumes(tmp_path):
    saved_fit(tmp_path / "ck", "abc")
    said, say = lines()
    assert resume_point(tmp_path / "ck", "abc", say) == tmp_path / "ck" / "last.ckpt"
    assert said == [f"train: resuming from {tmp_path / 'ck' / 'last.ckpt'} at step 4 (same params and data, fit unfinished)"]


@pytest.mark.parametrize(("recorded", "finished", "damage", "reason"), [
    ("other", False, False, "the checkpoint is from other params or data"),
    ("abc", True, False, "the last run finished"),
    ("abc", False, True, "is unreadable"),
])
def test_anything_else_starts_fresh_in_a_cleared_folder(tmp_path, recorded, finished, damage, reason):
    folder = tmp_path / "ck"
    saved_fit(folder, recorded, finished=finished)
    if damage:
        (folder / "last.ckpt").write_bytes(b"half a checkpoint")
    said, say = lines()
    assert resume_point(folder, "abc", say) is None
    assert len(said) == 1 and said[0].startswith("train: starting fresh (") and reason in said[0]
    assert sorted(p.name for p in folder.iterdir()) == [RUN_FILE]  # no stale checkpoint left to resume later
    assert json.loads((folder / RUN_FILE).read_text()) == {"fingerprint": "abc", "finished": False}
    mark_finished(folder, "abc")
    assert json.loads((folder / RUN_FILE).read_text())["finished"] is True


def test_no_checkpoint_starts_fresh(tmp_path):
    said, say = lines()
    assert resume_point(tmp_path / "new", "abc", say) is None and said == ["train: starting fresh (no checkpoint)"]


def test_the_fingerprint_follows_params_and_rows(tiny_params, tmp_path):
    params = tiny_params(tmp_path)
    frame = read_split(FIXTURE_CSV)
    train, val = frame.iloc[:30], frame.iloc[30:]
    base = fingerprint(params, train, val)
    assert fingerprint(params, train.copy(), val.copy()) == base
    other_lr = dataclasses.replace(params, train=dataclasses.replace(params.train, lr=params.train.lr * 2))
    assert fingerprint(other_lr, train, val) != base
    edited = train.copy()
    edited.iloc[0, 1] = edited.iloc[0, 1] + "!"
    assert fingerprint(params, edited, val) != base
    assert fingerprint(dataclasses.replace(params, seed=params.seed + 1), train, val) != base


@pytest.mark.slow
def test_dvc_repro_killed_mid_epoch_resumes_to_the_uninterrupted_metrics(tmp_path, tiny_model_dir):
    # one comment per batch and 3 epochs: ~50 steps, so the kill lands mid-fit after a step checkpoint
    params = shrunk_params_dict(tiny_model_dir, train={"epochs": 3, "max_batch_size": 1, "checkpoint_every_n_steps": 5})
    repo = make_repo(tmp_path / "repo", params)
    first = subprocess.Popen(["dvc", "repro"], cwd=repo, env=venv_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
    last = repo / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 300
    while not last.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # let the step checkpoint finish writing
    assert first.poll() is None, "the run ended before it could be killed:\n" + first.stdout.read()
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert not (repo / "models" / "toxic-tagger").exists()
    second = run(["dvc", "repro"], repo)
    resumed = [line for line in second.stdout.splitlines() if line.startswith("train: resuming from")]
    assert len(resumed) == 1 and "checkpoints/last.ckpt at step " in resumed[0], second.stdout
    step = int(resumed[0].split(" at step ")[1].split()[0])
    assert step > 0  # a step checkpoint (every 5) or an epoch end's, whichever was newest at the kill
    metrics = [json.loads((repo / "metrics" / f"{name}.json").read_text()) for name in ("eval", "train")]
    # the same params again, forced: the finished fit is not resumed, so this run is uninterrupted
    third = run(["dvc", "repro", "--force", "train", "evaluate"], repo)
    assert "train: starting fresh (the last run finished)" in third.stdout
    again = [json.loads((repo / "metrics" / f"{name}.json").read_text()) for name in ("eval", "train")]
    assert again[0] == metrics[0], differing(again[0], metrics[0])
    drop = lambda d: {k: v for k, v in d.items() if k != "train_seconds"}  # noqa: E731
    assert drop(again[1]) == drop(metrics[1])


def differing(a, b, prefix=""):
    """Dotted keys whose leaves differ between two nested dicts (for a readable failure)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [key for k in sorted(set(a) | set(b)) for key in differing(a.get(k), b.get(k), f"{prefix}{k}.")]
    return [] if a == b else [f"{prefix[:-1]}: {a} vs {b}"]


def test_a_checkpoint_without_a_run_record_is_not_trusted(tmp_path):
    folder = tmp_path / "ck"
    saved_fit(folder, "abc")
    (folder / RUN_FILE).unlink()
    said, say = lines()
    assert resume_point(folder, "abc", say) is None and said == [f"train: starting fresh (no {RUN_FILE} beside the checkpoint)"]
