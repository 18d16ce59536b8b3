"""The real `dvc repro` of all stages, then an experiment, in a temporary git repository (slow:
DVC and training)."""

import json

import numpy as np
import pytest
from conftest import make_repo, run, shrunk_params_dict
from sklearn.metrics import roc_auc_score

pytestmark = pytest.mark.slow


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
                 "plots/eval/reliability/toxic.csv", "plots/eval/bias.csv", "reports/errors_val.csv",
                 "models/MODEL_CARD.md", "dvclive/metrics.json"):
        assert (repo / path).is_file(), path
    evaluation, split = read_metrics(repo, "eval"), read_metrics(repo, "split")
    assert evaluation["threads"] == 1
    assert evaluation["test"]["rows"] == split["test"]["rows"]
    assert read_metrics(repo, "token_stats")["train"]["comments"] == split["train"]["rows"]
    # eval.json's test AUROC is the exported model's on data/test.csv, recomputed here with sklearn.
    from toxic_tagger import LABELS, TEXT_COLUMN
    from toxic_tagger.data.comments_csv import label_matrix, read_split
    from toxic_tagger.model.export import load_exported
    from toxic_tagger.predict.torch_runtime import predict_exported

    test = read_split(repo / "data" / "test.csv")
    probs = predict_exported(load_exported(repo / "models" / "toxic-tagger"), test[TEXT_COLUMN].tolist(), 4096,
                             progress=False)
    aurocs = [roc_auc_score(label_matrix(test)[:, j], probs[:, j]) for j in range(len(LABELS))]
    assert evaluation["test"]["toxic"]["auroc"] == pytest.approx(aurocs[0], abs=1e-5)
    assert evaluation["test"]["mean_auroc"] == pytest.approx(np.mean(aurocs), abs=1e-5)
    assert evaluation["test"]["calibration"]["bins"] == 15 and "bias" in evaluation["val"]
    assert read_metrics(repo, "train")["calibration_per_tag"] == {
        entry["tag"]: entry["kind"] for entry in json.loads(
            (repo / "models" / "toxic-tagger" / "toxic_tagger.json").read_text())["calibration"]["tags"]}


def test_status_is_clean_but_for_the_always_run_check_and_source(reproduced):
    status = run(["dvc", "status", "--json"], reproduced).stdout
    assert json.loads(status) == {"check_params": ["always changed"], "fetch": ["always changed"]}


@pytest.mark.parametrize(("old", "new", "message"), [
    ("baseline_weight: null", "baseline_weight: 1.5", "train.baseline_weight must be in [0, 1]"),
    ("monitor: val/mean_auroc", "monitor: val/f1", "train.monitor must be one of"),
    ("C: 1.0", "C: 0.0", "baseline.C must be > 0, got 0.0"),
])
def test_plain_dvc_repro_refuses_a_bad_param_before_deleting_anything(reproduced, old, new, message):
    """DVC deletes a stage's outputs just before its command runs: the check_params stage at the
    head of the pipeline must stop the run first, leaving every earlier output as it was."""
    outputs = [path for path in sorted(reproduced.glob("data/*")) + sorted(reproduced.glob("models/**/*"))
               if path.is_file() and path.name != "params.checked.json"]  # the check's own output
    before = {path: path.read_bytes() for path in outputs}
    params = reproduced / "params.yaml"
    good = params.read_text()
    assert old in good
    params.write_text(good.replace(old, new, 1))
    try:
        result = run(["dvc", "repro"], reproduced, check=False)
    finally:
        params.write_text(good)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert "Running stage 'fetch'" not in result.stdout
    assert {path: path.read_bytes() for path in outputs} == before


def test_rerun_gives_identical_metrics(reproduced):
    before = read_metrics(reproduced, "eval"), read_metrics(reproduced, "train")
    run(["dvc", "repro", "--force", "--single-item", "train"], reproduced)
    run(["dvc", "repro", "--force", "--single-item", "evaluate"], reproduced)
    after = read_metrics(reproduced, "eval"), read_metrics(reproduced, "train")
    assert after[0] == before[0]
    drop = lambda d: {k: v for k, v in d.items() if k != "train_seconds"}  # noqa: E731
    assert drop(after[1]) == drop(before[1])


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


def test_a_fresh_clone_pulls_everything_from_the_remote_and_has_nothing_to_train(reproduced, tmp_path):
    """The team workflow on a local-directory remote (the stand-in for S3 / GCS / SSH): push the
    data, models and run-cache, clone, pull; the clone is up to date (only the two always-run
    stages run, and their outputs come out the same) and `dvc artifacts get` fetches the model
    from the remote alone."""
    import gto.api

    from toxic_tagger.predict.tagger import Tagger

    repo, store = reproduced, tmp_path / "store"
    run(["dvc", "repro"], repo)  # the workspace as dvc.lock says (the experiment above moved it)
    run(["dvc", "remote", "add", "-f", "-d", "team", str(store)], repo)
    run(["dvc", "push", "--run-cache"], repo)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "results, remote"], repo)
    gto.api.register(str(repo), "toxic-tagger", "HEAD", version="v0.1.0", message="toxic-tagger v0.1.0",
                     author="test", author_email="test@example.com")
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(repo), str(clone)], tmp_path)
    run(["dvc", "pull"], clone)
    for path in ("data/train.csv", "models/toxic-tagger/model.safetensors", "checkpoints/best.ckpt"):
        assert (clone / path).read_bytes() == (repo / path).read_bytes(), path
    assert json.loads(run(["dvc", "status", "--json"], clone).stdout) == {
        "check_params": ["always changed"], "fetch": ["always changed"]}
    again = run(["dvc", "repro"], clone).stdout
    ran = [line for line in again.splitlines() if line.startswith("Running stage")]
    assert ran == ["Running stage 'check_params':", "Running stage 'fetch':"], again
    assert run(["git", "status", "--porcelain"], clone).stdout.strip() == ""  # dvc.lock unchanged
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    run(["dvc", "artifacts", "get", str(repo), "toxic-tagger", "--rev", "v0.1.0", "-o", "model"], consumer)
    probs = Tagger.load(consumer / "model", progress=False).predict_proba(["you idiot"])
    assert probs.shape == (1, 6)
    assert (consumer / "model" / "README.md").is_file()  # the model card travels with it
