"""Identity-subgroup bias metrics (Borkan et al. 2019) on hand-made arrays with known answers."""

import json
import tomllib
from importlib import resources

import numpy as np
import pytest
from conftest import ROOT

from toxic_tagger.errors import InputError, ToxicTaggerError
from toxic_tagger.evaluate.bias import (
    Lexicon, bias_report, bnsp_auc, bpsn_auc, final_score, generalized_mean, load_lexicon, subgroup_auc,
    subgroup_masks,
)

SCORED_BY_THE_COMPETITION = {"male", "female", "homosexual_gay_or_lesbian", "christian", "jewish", "muslim",
                             "black", "white", "psychiatric_or_mental_illness"}

# Rows: 3 mention muslims (2 non-toxic scored 0.35 and 0.6, 1 toxic scored 0.9); the background
# has toxic comments scored 0.3 and 0.4 and non-toxic ones scored 0.1 and 0.2. Nobody mentions jews.
TEXTS = ["I like Muslim food", "the muslim community", "Islam haters are idiots", "you idiot", "you moron",
         "nice weather", "good article"]
LABELS = np.array([0, 0, 1, 1, 1, 0, 0])
SCORES = np.array([0.35, 0.6, 0.9, 0.3, 0.4, 0.1, 0.2])
SMALL = Lexicon("test", "hand-made", {"muslim": ("muslim", "islam"), "jewish": ("jew", "jews")})


def test_subgroup_bpsn_bnsp_known_fractions():
    muslim = subgroup_masks(TEXTS, SMALL)["muslim"]
    assert muslim.tolist() == [True, True, True, False, False, False, False]
    assert subgroup_auc(LABELS, SCORES, muslim) == 1.0  # 0.9 above 0.35 and 0.6
    # background positives {0.3, 0.4} vs subgroup negatives {0.35, 0.6}: only 0.4 > 0.35 is ordered
    assert bpsn_auc(LABELS, SCORES, muslim) == pytest.approx(1 / 4)
    assert bnsp_auc(LABELS, SCORES, muslim) == 1.0  # 0.9 above 0.1 and 0.2


def test_generalized_mean_known_values():
    assert generalized_mean([1.0, 1.0]) == pytest.approx(1.0)
    assert generalized_mean([0.5, 1.0]) == pytest.approx(((0.5 ** -5 + 1) / 2) ** (-1 / 5))
    assert generalized_mean([0.5, 1.0]) == pytest.approx(16.5 ** -0.2)  # = 0.5708..., near the worst
    assert generalized_mean([0.5, 1.0], p=1) == pytest.approx(0.75)
    assert generalized_mean([0.0, 1.0]) == 0.0
    with pytest.raises(ToxicTaggerError, match="finite"):
        generalized_mean([np.nan, 1.0])


def test_final_score_weights_each_part_a_quarter():
    assert final_score(0.9, 0.8, 0.7, 0.6) == pytest.approx(0.25 * 0.9 + 0.25 * (0.8 + 0.7 + 0.6))
    assert final_score(1.0, 0.0, 0.0, 0.0) == pytest.approx(0.25)


def test_bias_report_hand_example_reports_every_subgroup():
    report = bias_report(TEXTS, LABELS, SCORES, SMALL, min_positives=1, min_negatives=1)
    assert report["overall_auc"] == pytest.approx(9 / 12, abs=1e-6)  # 4 + 2 + 3 of 12 pairs ordered
    muslim = report["subgroups"]["muslim"]
    assert muslim == {"size": 3, "positives": 1, "negatives": 2, "subgroup_auc": 1.0, "bpsn_auc": 0.25,
                      "bnsp_auc": 1.0, "status": "ok"}
    jewish = report["subgroups"]["jewish"]  # kept, with null AUCs and the reason
    assert jewish["size"] == 0 and jewish["status"] == "too few positives (0 < 1)"
    assert jewish["subgroup_auc"] is jewish["bpsn_auc"] is jewish["bnsp_auc"] is None
    means = report["generalized_means"]
    assert means == {"subgroup_auc": 1.0, "bpsn_auc": 0.25, "bnsp_auc": 1.0, "subgroups_used": 1, "subgroups_total": 2}
    assert report["final_score"] == pytest.approx(0.25 * 0.75 + 0.25 * (1.0 + 0.25 + 1.0), abs=1e-6)
    assert report["lexicon_version"] == "test" and report["rows"] == 7
    json.dumps(report, allow_nan=False)  # JSON-ready: no NaN, no NumPy types


def test_too_few_positives_and_negatives_are_reported_with_counts():
    rng = np.random.default_rng(0)
    texts = ["muslim"] * 30 + ["jews"] * 30 + ["other"] * 100
    labels = np.r_[np.ones(3), np.zeros(27), np.ones(25), np.zeros(5), rng.random(100) < 0.5].astype(int)
    scores = rng.random(160)
    report = bias_report(texts, labels, scores, SMALL)  # default minimum: 10 of each
    assert report["subgroups"]["muslim"]["status"] == "too few positives (3 < 10)"
    assert report["subgroups"]["jewish"]["status"] == "too few negatives (5 < 10)"
    assert report["subgroups"]["muslim"]["bpsn_auc"] is None
    assert report["generalized_means"]["subgroups_used"] == 0 and report["final_score"] is None
    report = bias_report(texts, labels, scores, SMALL, min_positives=3, min_negatives=5)
    assert report["generalized_means"]["subgroups_used"] == 2 and report["final_score"] is not None


def test_background_without_negatives_is_not_ok():
    texts, labels = ["muslim"] * 4 + ["x"] * 2, np.array([1, 1, 0, 0, 1, 1])
    report = bias_report(texts, labels, np.arange(6.0), SMALL, min_positives=1, min_negatives=1)
    assert report["subgroups"]["muslim"]["status"] == "too few background negatives (0 < 1)"


@pytest.mark.parametrize("text, subgroup, mentioned", [
    ("Trans rights now", "transgender", True),
    ("public transport is late", "transgender", False),
    ("trans-inclusive policy", "transgender", True),
    ("WHITE people", "white", True),
    ("whitespace in code", "white", False),
    ("the whites of their eyes", "white", True),  # a keyword match: the colour counts too
    ("an African   American writer", "black", True),  # a phrase across any whitespace
    ("an African writer", "black", False),
    ("jews, christians and muslims", "jewish", True),
    ("jewelry shop", "jewish", False),
    ("the man's hat", "male", True),
    ("manage the team", "male", False),
    ("he is mentally ill", "psychiatric_or_mental_illness", True),
    ("mentally strong", "psychiatric_or_mental_illness", False),
    ("a gay couple", "homosexual_gay_or_lesbian", True),
    ("Islamist", "muslim", False),
])
def test_packaged_lexicon_matches_whole_words_only(text, subgroup, mentioned):
    assert subgroup_masks([text], load_lexicon())[subgroup].tolist() == [mentioned]


def test_packaged_lexicon_is_package_data():
    raw = json.loads(resources.files("toxic_tagger.evaluate").joinpath("identity_terms.json").read_text())
    assert raw["version"] == "1" and raw["source"]
    assert SCORED_BY_THE_COMPETITION <= set(raw["subgroups"])
    lexicon = load_lexicon()
    assert lexicon.version == "1" and set(lexicon.subgroups) == set(raw["subgroups"])
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "identity_terms.json" in package_data["toxic_tagger.evaluate"]


def test_lexicon_file_errors_name_the_problem(tmp_path):
    path = tmp_path / "terms.json"
    path.write_text(json.dumps({"version": "2", "source": "x", "subgroups": {"white": ["White"]}}))
    with pytest.raises(InputError, match=r"terms.json: subgroup 'white': terms must be lower-case.*'White'"):
        load_lexicon(path)
    path.write_text("{")
    with pytest.raises(InputError, match="not JSON"):
        load_lexicon(path)


def test_bias_report_rejects_mismatched_inputs():
    with pytest.raises(ToxicTaggerError, match="each \\(n,\\)"):
        bias_report(TEXTS, LABELS[:-1], SCORES, SMALL)
    with pytest.raises(ToxicTaggerError, match="finite"):
        bias_report(TEXTS, LABELS, np.full(7, np.nan), SMALL)
