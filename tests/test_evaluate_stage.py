"""The evaluate stage script on a calibrated, head_tail export (the tiny random BERT, no training)
and synthetic val / test splits, some comments rewritten to mention an identity subgroup:
eval.json's calibration, bias and error analysis agree with the library's own scoring, and
every plot file, the error CSV and the card sections are written."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT, shrunk_params_dict

from toxic_tagger import LABELS, TEXT_COLUMN
from toxic_tagger.data.comments_csv import label_matrix, read_split
from toxic_tagger.data.split import make_splits
from toxic_tagger.data.synthetic import generate_sample
from toxic_tagger.evaluate.bias import bpsn_auc, load_lexicon, subgroup_masks
from toxic_tagger.evaluate.calibration import brier, ece
from toxic_tagger.evaluate.metrics import per_tag_auroc
from toxic_tagger.model.export import load_exported
from toxic_tagger.predict.torch_runtime import predict_exported


def mention_muslims(frame: pd.DataFrame) -> pd.DataFrame:
    """15 toxic and 15 non-toxic comments rewritten to start with 'Muslim neighbours: '."""
    frame = frame.copy()
    for value in (1, 0):
        rows = frame.index[frame["toxic"] == value][:15]
        frame.loc[rows, TEXT_COLUMN] = "Muslim neighbours: " + frame.loc[rows, TEXT_COLUMN]
    return frame


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory, calibrated_export):
    return run_evaluate(tmp_path_factory.mktemp("evaluate"), calibrated_export)


def run_evaluate(repo, export) -> tuple:
    """The evaluate stage on `export` in a scratch repo `repo` (created): (repo, eval.json)."""
    repo.mkdir(exist_ok=True)
    params = shrunk_params_dict(ROOT / "unused")
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    (repo / "dvc.yaml").touch()
    splits = make_splits(generate_sample(1500, 5), make_split_params(), 42)
    (repo / "data").mkdir()
    for name in ("val", "test"):
        mention_muslims(getattr(splits, name)).to_csv(repo / "data" / f"{name}.csv", index=False)
    (repo / "metrics").mkdir()
    (repo / "metrics" / "split.json").write_text(json.dumps(
        {"train": {"rows": 1}, "val": {"rows": 2}, "test": {"rows": 3}, "balance": {"clean_rows_used": 0}}))
    args = ["--model", str(export), "--val", "data/val.csv", "--test", "data/test.csv",
            "--splits", "metrics/split.json", "--metrics", "metrics/eval.json", "--plots", "plots/eval",
            "--errors", "reports/errors_val.csv", "--card", "models/MODEL_CARD.md"]
    result = subprocess.run([sys.executable, str(ROOT / "stages" / "evaluate.py"), *args], cwd=repo,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return repo, json.loads((repo / "metrics" / "eval.json").read_text())


def make_split_params():
    from toxic_tagger.config.schema import SplitParams

    return SplitParams(val_fraction=0.4, test_fraction=0.4, clean_rows=None)


def test_calibration_before_and_after_are_the_exports_two_scores(evaluated, calibrated_export):
    repo, report = evaluated
    exported = load_exported(calibrated_export)
    test = read_split(repo / "data" / "test.csv")
    labels, texts = label_matrix(test), test[TEXT_COLUMN].tolist()
    final = predict_exported(exported, texts, 4096, progress=False)
    blended = predict_exported(exported, texts, 4096, progress=False, calibrated=False)
    calibration = report["test"]["calibration"]
    assert calibration["bins"] == 15
    for j, label in enumerate(LABELS):
        assert calibration[label]["ece_before"] == pytest.approx(ece(labels, blended)[j], abs=1e-6)
        assert calibration[label]["brier_after"] == pytest.approx(brier(labels, final)[j], abs=1e-6)
        assert calibration[label]["calibrator"] == exported.calibration.kinds()[label]
    assert report["test"]["mean_auroc"] == pytest.approx(np.nanmean(per_tag_auroc(labels, final)), abs=1e-6)
    # a monotone map per tag: the ranking and so every AUROC is the blend's
    np.testing.assert_allclose(per_tag_auroc(labels, final), per_tag_auroc(labels, blended), atol=1e-12)
    assert "calibration" in report["val"]


def test_bias_of_the_toxic_score_with_every_subgroup_reported(evaluated, calibrated_export):
    repo, report = evaluated
    bias = report["test"]["bias"]
    assert set(bias["subgroups"]) == set(load_lexicon().subgroups)  # none dropped
    assert bias["subgroups"]["muslim"]["status"] == "ok" and bias["subgroups"]["jewish"]["size"] == 0
    assert bias["subgroups"]["jewish"]["status"].startswith("too few positives")
    test = read_split(repo / "data" / "test.csv")
    scores = predict_exported(load_exported(calibrated_export), test[TEXT_COLUMN].tolist(), 4096, progress=False)
    muslim = subgroup_masks(test[TEXT_COLUMN].tolist(), load_lexicon())["muslim"]
    expected = bpsn_auc(label_matrix(test)[:, 0], scores[:, 0], muslim)
    assert bias["subgroups"]["muslim"]["bpsn_auc"] == pytest.approx(expected, abs=1e-6)
    assert bias["final_score"] is not None and "bias" in report["val"]
    plot = pd.read_csv(repo / "plots" / "eval" / "bias.csv")
    assert plot.set_index("subgroup").loc["muslim", "bpsn_auc"] == pytest.approx(expected, abs=1e-6)


def test_error_analysis_lists_real_errors_of_val(evaluated, calibrated_export):
    repo, report = evaluated
    errors = pd.read_csv(repo / "reports" / "errors_val.csv", dtype={"id": str})
    val = read_split(repo / "data" / "val.csv").set_index("id")
    assert len(errors) and errors.groupby(["tag", "kind"]).size().max() <= 20
    for row in errors.itertuples():
        label = int(val.loc[row.id, row.tag])
        assert (label, row.score >= row.threshold) == ((0, True) if row.kind == "false_positive" else (1, False))
    summary = report["error_analysis"]
    assert summary["file"] == "reports/errors_val.csv" and summary["split"] == "val"
    fp = errors[(errors["tag"] == "toxic") & (errors["kind"] == "false_positive")]
    assert summary["toxic"]["listed_false_positives"] == len(fp)


def test_plot_files_and_card_sections(evaluated):
    repo, _ = evaluated
    for path in ("reliability/ideal.csv", "reliability/toxic.csv", "reliability_uncalibrated/insult.csv",
                 "bias.csv", "roc/toxic.csv", "confusion.csv"):
        assert (repo / "plots" / "eval" / path).is_file(), path
    card = (repo / "models" / "MODEL_CARD.md").read_text()
    for heading in ("## Calibration", "## Identity-subgroup bias (`toxic`, test split)", "### Errors on val",
                    "- truncation: head_tail, the first 8 and the last 54 tokens"):
        assert heading in card


def test_dvc_yaml_plots_name_the_files_the_stage_writes(evaluated):
    repo, _ = evaluated
    plots = yaml.safe_load((ROOT / "dvc.yaml").read_text())["plots"]
    files = {path for plot in plots for definition in plot.values() for path in definition["y"]
             if path.startswith("plots/eval/")}
    assert {"plots/eval/reliability/toxic.csv", "plots/eval/bias.csv"} <= files
    missing = [path for path in files if not (repo / path).is_file()]
    assert not missing, missing


@pytest.mark.slow  # a second run of the stage script
def test_a_model_refitted_on_val_marks_its_val_numbers_in_sample(tmp_path, calibrated_export):
    import shutil

    export = tmp_path / "export"
    shutil.copytree(calibrated_export, export)
    meta_path = export / "toxic_tagger.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "refit_on_val": {"epochs": 1, "rows": 10, "baseline": False}}))
    repo, report = run_evaluate(tmp_path / "repo", export)
    assert report["val_in_training"] is True and report["error_analysis"]["in_sample"] is True
    card = (repo / "models" / "MODEL_CARD.md").read_text()
    assert "refitted on train + val" in card and "comments it trained on" in card
