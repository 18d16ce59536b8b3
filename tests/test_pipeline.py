"""The real `dvc repro` of all stages, then an experiment, in a temporary git repository."""

import json

import pytest
from conftest import make_repo, run, shrunk_params_dict


def read_metrics(repo, name):
    return json.loads((repo / "metrics" / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory, tiny_model_dir):
    repo = make_repo(tmp_path_factory.mktemp("pipeline") / "repo", shrunk_params_dict(tiny_model_dir))
    run(["dvc", "repro"], repo)
    return repo


def test_all_stages_write_their_outputs(reproduced):
    repo = reproduced
    for path in ("data/raw.csv", "data/train.csv", "data/val.csv", "data/test.csv",
                 "checkpoints/best.ckpt", "checkpoints/last.ckpt", "models/toxic-tagger/model.safetensors",
                 "plots/token_lengths.csv", "plots/eval/roc/toxic.csv", "plots/eval/confusion.csv",
                 "models/MODEL_CARD.md", "dvclive/metrics.json"):
        assert (repo / path).is_file(), path
    evaluation = read_metrics(repo, "eval")
    assert evaluation["threads"] == 1
    assert 0.0 <= evaluation["test"]["mean_auroc"] <= 1.0
    assert evaluation["test"]["rows"] == read_metrics(repo, "split")["test"]["rows"]
    assert read_metrics(repo, "token_stats")["train"]["comments"] > 0


def test_status_is_clean_but_for_the_always_read_source(reproduced):
    status = run(["dvc", "status", "--json"], reproduced).stdout
    assert json.loads(status) == {"fetch": ["always changed"]}


@pytest.mark.slow
def test_rerun_gives_identical_metrics(reproduced):
    before = read_metrics(reproduced, "eval"), read_metrics(reproduced, "train")
    run(["dvc", "repro", "--force", "--single-item", "train"], reproduced)
    run(["dvc", "repro", "--force", "--single-item", "evaluate"], reproduced)
    after = read_metrics(reproduced, "eval"), read_metrics(reproduced, "train")
    assert after[0] == before[0]
    drop = lambda d: {k: v for k, v in d.items() if k != "train_seconds"}  # noqa: E731
    assert drop(after[1]) == drop(before[1])


@pytest.mark.slow
def test_experiment_variant_is_listed_beside_baseline(reproduced):
    repo = reproduced
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "baseline results"], repo)
    run(["dvc", "exp", "run", "-n", "fast-lr", "-S", "train.lr=0.01"], repo)
    shown = json.loads(run(["dvc", "exp", "show", "--json"], repo).stdout)
    # Entries: the workspace, then each commit with its experiments nested under it.
    head = next(entry for entry in shown if entry["rev"] != "workspace")
    rows = [head] + [rev for exp in head.get("experiments") or [] for rev in exp["revs"]]
    by_name = {("baseline" if row is head else row["name"]): row["data"] for row in rows}
    assert "fast-lr" in by_name
    lrs = {name: data["params"]["params.yaml"]["data"]["train"]["lr"] for name, data in by_name.items()}
    assert lrs["fast-lr"] == 0.01 and lrs["baseline"] != 0.01
    # The transformer's own val AUROC (the tiny random model may lose the blend to the baseline).
    aurocs = {name: data["metrics"]["metrics/train.json"]["data"]["val_mean_auroc_transformer"]
              for name, data in by_name.items()}
    assert aurocs["fast-lr"] != aurocs["baseline"]
    assert "test" in by_name["fast-lr"]["metrics"]["metrics/eval.json"]["data"]
