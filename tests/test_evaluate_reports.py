"""The evaluate stage's new reports on hand-made arrays: calibration before/after and reliability
tables, the subgroup-AUC plot table, the val error analysis, and their model-card sections."""

import numpy as np
import pandas as pd
import pytest

from toxic_tagger import LABELS
from toxic_tagger.evaluate.calibration import Calibration, brier, ece
from toxic_tagger.evaluate.calibration_report import calibration_report, reliability_tables
from toxic_tagger.evaluate.calibrators import TagCalibrator
from toxic_tagger.evaluate.card_sections import bias_section, calibration_section, errors_section, truncation_line
from toxic_tagger.evaluate.curves import bias_frame, write_curves
from toxic_tagger.evaluate.error_analysis import clip, error_summary, top_errors


def overconfident(n: int = 2000, seed: int = 0):
    """Labels drawn with probability p, `before` pushed towards 0 and 1, `after` = p itself."""
    rng = np.random.default_rng(seed)
    truth = rng.random((n, 6))
    labels = (rng.random((n, 6)) < truth).astype(int)
    before = np.clip(0.5 + 1.8 * (truth - 0.5), 0, 1)
    return labels, before, truth


def test_calibration_report_is_brier_and_ece_before_and_after():
    labels, before, after = overconfident()
    calibration = Calibration((TagCalibrator("platt", scale=1.0, bias=0.0), *[TagCalibrator("none")] * 5))
    report = calibration_report(labels, before, after, calibration)
    assert report["bins"] == 15 and report["binning"] == "equal-width on [0, 1]"
    assert report["toxic"]["calibrator"] == "platt" and report["threat"]["calibrator"] == "none"
    assert report["insult"]["ece_before"] == pytest.approx(ece(labels, before)[4], abs=1e-6)
    assert report["insult"]["brier_after"] == pytest.approx(brier(labels, after)[4], abs=1e-6)
    assert report["mean"]["ece_after"] == pytest.approx(ece(labels, after).mean(), abs=1e-6)
    # the overconfident scores are the worse calibrated, by both measures
    assert report["mean"]["ece_after"] < 0.03 < report["mean"]["ece_before"]
    assert report["mean"]["brier_after"] < report["mean"]["brier_before"]


def test_reliability_tables_one_file_per_tag_before_and_after(tmp_path):
    labels, before, after = overconfident()
    tables = reliability_tables(labels, before, after)
    assert set(tables) == {"reliability/ideal.csv", *(f"reliability/{t}.csv" for t in LABELS),
                           *(f"reliability_uncalibrated/{t}.csv" for t in LABELS)}
    toxic = tables["reliability/toxic.csv"]
    assert list(toxic.columns) == ["bin", "count", "mean_predicted", "observed"]
    assert toxic["count"].sum() == len(labels) and toxic["bin"].max() <= 14
    # calibrated: observed frequency close to the mean prediction in every well-filled bin
    full = toxic[toxic["count"] > 100]
    assert (full["observed"] - full["mean_predicted"]).abs().max() < 0.08
    write_curves(tmp_path / "eval", labels, after, np.full(6, 0.5), extra=tables)
    assert pd.read_csv(tmp_path / "eval" / "reliability_uncalibrated" / "threat.csv").equals(
        tables["reliability_uncalibrated/threat.csv"])
    assert (tmp_path / "eval" / "roc" / "toxic.csv").is_file()


def test_bias_frame_keeps_every_subgroup_with_its_status():
    report = {"subgroups": {
        "muslim": {"size": 30, "positives": 12, "negatives": 18, "subgroup_auc": 0.8, "bpsn_auc": 0.7,
                   "bnsp_auc": 0.9, "status": "ok"},
        "jewish": {"size": 2, "positives": 0, "negatives": 2, "subgroup_auc": None, "bpsn_auc": None,
                   "bnsp_auc": None, "status": "too few positives (0 < 10)"}}}
    frame = bias_frame(report)
    assert frame["subgroup"].tolist() == ["muslim", "jewish"]
    assert frame.loc[0, "bpsn_auc"] == 0.7 and pd.isna(frame.loc[1, "subgroup_auc"])
    assert frame.loc[1, "status"] == "too few positives (0 < 10)"


# Four comments, tag toxic at threshold 0.5 (the other tags: no positives, threshold 1.1: no errors).
IDS = ["a", "b", "c", "d", "e"]
TEXTS = ["fine\n  words", "you idiot", "a long rant " * 10, "another idiot", "muslim neighbours are kind"]
ERR_LABELS = np.zeros((5, 6), dtype=int)
ERR_LABELS[[1, 2, 3], 0] = 1
SCORES = np.zeros((5, 6))
SCORES[:, 0] = [0.7, 0.9, 0.1, 0.3, 0.95]
THRESHOLDS = np.array([0.5, 1.1, 1.1, 1.1, 1.1, 1.1])
TOKENS = np.array([5, 4, 40, 4, 6])
IDENTITY = np.array([False, False, False, False, True])


def test_top_errors_lists_the_worst_first_with_their_texts():
    table = top_errors(IDS, TEXTS, ERR_LABELS, SCORES, THRESHOLDS, tokens=TOKENS, identity=IDENTITY, max_length=32)
    assert table[["tag", "kind", "rank", "id"]].values.tolist() == [
        ["toxic", "false_positive", 1, "e"], ["toxic", "false_positive", 2, "a"],   # 0.95, then 0.7
        ["toxic", "false_negative", 1, "c"], ["toxic", "false_negative", 2, "d"]]   # 0.1, then 0.3
    assert table["text"].iloc[1] == "fine words"  # on one line
    assert table["truncated"].tolist() == [0, 0, 1, 0] and table["identity_term"].tolist() == [1, 0, 0, 0]
    assert table["threshold"].unique().tolist() == [0.5]
    assert len(top_errors(IDS, TEXTS, ERR_LABELS, SCORES, THRESHOLDS, TOKENS, IDENTITY, 32, top_n=1)) == 2


def test_clip_cuts_long_texts():
    assert clip("x" * 400) == "x" * 299 + "…" and len(clip("x" * 400)) == 300
    assert clip("short") == "short"


def test_error_summary_counts_and_patterns():
    summary = error_summary(ERR_LABELS, SCORES, THRESHOLDS, TOKENS, IDENTITY, max_length=32)
    assert summary["rows"] == 5 and summary["long_share_all"] == 0.2 and summary["identity_share_all"] == 0.2
    toxic = summary["toxic"]
    assert toxic["false_positives"] == 2 and toxic["false_negatives"] == 2
    assert toxic["long_share_false_negatives"] == 0.5 and toxic["identity_share_false_positives"] == 0.5
    assert summary["threat"]["listed_false_negatives"] == 0 and summary["threat"]["long_share_false_negatives"] is None


def evaluation() -> dict:
    labels, before, after = overconfident()
    calibration = calibration_report(labels, before, after, Calibration.identity())
    bias = {"lexicon_version": "1", "overall_auc": 0.9, "final_score": 0.85, "power": -5, "min_positives": 10,
            "min_negatives": 10, "generalized_means": {"subgroup_auc": 0.8, "bpsn_auc": 0.82, "bnsp_auc": 0.88,
                                                       "subgroups_used": 1, "subgroups_total": 2},
            "subgroups": {"muslim": {"size": 30, "positives": 12, "subgroup_auc": 0.8, "bpsn_auc": 0.82,
                                     "bnsp_auc": 0.88, "status": "ok"},
                          "jewish": {"size": 2, "positives": 0, "subgroup_auc": None, "bpsn_auc": None,
                                     "bnsp_auc": None, "status": "too few positives (0 < 10)"}}}
    errors = error_summary(ERR_LABELS, SCORES, THRESHOLDS, TOKENS, IDENTITY, max_length=32)
    return {"test": {"calibration": calibration, "bias": bias}, "val": {"calibration": calibration},
            "error_analysis": errors}


def test_card_sections_show_calibration_bias_and_errors():
    report = evaluation()
    calibration = calibration_section(report)
    mean = report["test"]["calibration"]["mean"]
    assert "15 equal-width bins" in calibration
    assert f"| **mean** | | {mean['ece_before']:.4f} -> {mean['ece_after']:.4f} |" in calibration
    bias = bias_section(report)
    assert "| muslim | 30 | 12 | 0.800 | 0.820 | 0.880 |  |" in bias
    assert "| jewish | 2 | 0 | n/a | n/a | n/a | too few positives (0 < 10) |" in bias
    assert "**final score 0.850**" in bias and "version 1" in bias
    errors = errors_section(report)
    assert "| toxic | 2 | 2 | 50% | 50% |" in errors and "`reports/errors_val.csv`" in errors
    assert "refitted" not in errors
    report["error_analysis"]["in_sample"] = True  # train.refit_on_val: the model trained on val
    assert "comments it trained on" in errors_section(report)
    assert all(section({}) == "" for section in (calibration_section, bias_section, errors_section))


def test_card_has_the_new_sections_and_the_truncation(tmp_path):
    from toxic_tagger.evaluate.metrics import split_report
    from toxic_tagger.evaluate.model_card import render_card

    labels, _, probs = overconfident(300)
    report = {**evaluation()}
    for split in ("test", "val"):
        report[split] = {**split_report(labels, probs, np.full(6, 0.5), 20, seed=0), **report[split]}
    meta = {"max_length": 128, "truncation": "head_tail", "head_tokens": 32, "refit_on_val": {"rows": 9, "epochs": 2}}
    splits = {"train": {"rows": 10}, "val": {"rows": 20}, "test": {"rows": 30}, "balance": {"clean_rows_used": 5}}
    card = render_card(meta, splits, report, np.zeros(6))
    for heading in ("## Calibration", "## Identity-subgroup bias", "### Errors on val"):
        assert heading in card
    assert card.index("## Known limits") < card.index("### Errors on val")
    assert "- truncation: head_tail, the first 32 and the last 94 tokens" in card
    assert "refitted on train + val (9 rows, 2 epochs)" in card
    assert truncation_line({}) == "- truncation: head, the first tokens of a longer comment"
