"""Model-card sections drawn from metrics/eval.json: calibration, identity-subgroup bias and the
error analysis (the limits it shows). Each takes the evaluation report (eval.json's layout) and
returns Markdown, or "" when the report lacks that part (an evaluation from before it existed).
"""

from __future__ import annotations

from toxic_tagger import LABELS

ERRORS_FILE = "reports/errors_val.csv"


def _num(value, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def calibration_section(evaluation: dict) -> str:
    """Per tag: the calibrator and the test split's ECE and Brier score before and after it."""
    test = evaluation.get("test", {}).get("calibration")
    if not test:
        return ""
    rows = "\n".join(f"| {label} | {test[label]['calibrator']} | {_num(test[label]['ece_before'], 4)} -> "
                     f"{_num(test[label]['ece_after'], 4)} | {_num(test[label]['brier_before'], 4)} -> "
                     f"{_num(test[label]['brier_after'], 4)} |" for label in LABELS)
    mean, val = test["mean"], evaluation["val"]["calibration"]["mean"]
    ece, brier = (f"{_num(mean[f'{m}_before'], 4)} -> {_num(mean[f'{m}_after'], 4)}" for m in ("ece", "brier"))
    return f"""## Calibration

A tag's score is a calibrated probability: the blended score goes through a per-tag map chosen
on val by 5-fold cross-fitting (the lowest out-of-fold Brier score among none, temperature,
Platt and isotonic), refitted on all of val; the thresholds were tuned on the calibrated
scores. Each map is increasing, so AUROC is unchanged. Expected calibration error (ECE) over
{test['bins']} equal-width bins and Brier score, test split, before -> after calibration:

| tag | calibrator | ECE | Brier |
|---|---|---|---|
{rows}
| **mean** | | {ece} | {brier} |

On val, where the maps were fitted (in-sample), mean ECE {_num(val['ece_before'], 4)} -> {_num(val['ece_after'], 4)}."""


def bias_section(evaluation: dict) -> str:
    """Borkan et al. (2019) subgroup, BPSN and BNSP AUCs of the `toxic` score on test, every
    subgroup listed (too few comments: the counts say so), their generalized means and the final score."""
    bias = evaluation.get("test", {}).get("bias")
    if not bias:
        return ""
    means = bias["generalized_means"]
    rows = "\n".join(
        f"| {name} | {e['size']} | {e['positives']} | {_num(e['subgroup_auc'])} | {_num(e['bpsn_auc'])} | "
        f"{_num(e['bnsp_auc'])} | {'' if e['status'] == 'ok' else e['status']} |"
        for name, e in bias["subgroups"].items())
    return f"""## Identity-subgroup bias (`toxic`, test split)

Borkan et al. (2019), as scored in the Jigsaw Unintended Bias competition. A comment is in a
subgroup when it mentions one of the subgroup's terms as a whole word (the packaged lexicon
`identity_terms.json`, version {bias['lexicon_version']}: a keyword approximation, not human annotation).
BPSN AUC (background positive, subgroup negative) is low when non-toxic mentions of a subgroup
score above toxic comments elsewhere; BNSP the reverse. A subgroup with fewer than
{bias['min_positives']} toxic or {bias['min_negatives']} non-toxic comments (or background) is listed without AUCs.

| subgroup | comments | toxic | subgroup AUC | BPSN AUC | BNSP AUC | not scored |
|---|---|---|---|---|---|---|
{rows}

Generalized means (p = {bias['power']}) over the {means['subgroups_used']} scored subgroups of
{means['subgroups_total']}: subgroup {_num(means['subgroup_auc'])}, BPSN {_num(means['bpsn_auc'])},
BNSP {_num(means['bnsp_auc'])}; overall AUC {_num(bias['overall_auc'])}; **final score {_num(bias['final_score'])}**
(0.25 x overall AUC + 0.25 x each generalized mean)."""


def errors_section(evaluation: dict) -> str:
    """The limits the val error analysis shows: per tag the errors at the threshold and what the
    listed worst ones have in common (length, identity terms)."""
    errors = evaluation.get("error_analysis")
    if not errors:
        return ""
    tokens = errors["max_length"]
    rows = "\n".join(
        f"| {label} | {e['false_positives']} | {e['false_negatives']} | {_pct(e['long_share_false_negatives'])} | "
        f"{_pct(e['identity_share_false_positives'])} |" for label, e in ((label, errors[label]) for label in LABELS))
    return f"""### Errors on val (`{ERRORS_FILE}`)

The {errors['top_n']} worst false positives and false negatives per tag at the tuned thresholds
(val split, {errors['rows']} comments) are listed in `{ERRORS_FILE}` with their scores and texts.
Over all val comments, {_pct(errors['long_share_all'])} are longer than {errors['max_length']} tokens and
{_pct(errors['identity_share_all'])} mention an identity term; among the listed errors:

| tag | false positives | false negatives | listed FN over {tokens} tokens | listed FP with an identity term |
|---|---|---|---|---|
{rows}

A share of long comments among the false negatives well above {_pct(errors['long_share_all'])} points at text the model
does not read (model.truncation); identity terms among the false positives point at the bias above.{_in_sample(errors)}"""


def _in_sample(errors: dict) -> str:
    """Under train.refit_on_val the model trained on val: its val errors understate the real ones."""
    if not errors.get("in_sample"):
        return ""
    return ("\n\nThe exported model was refitted on train + val, so these are errors on comments it trained on: "
            "fewer and milder than on new comments.")


def truncation_line(meta: dict) -> str:
    """How the export cuts a long comment."""
    if meta.get("truncation") == "head_tail":
        head = meta.get("head_tokens", 0)
        return (f"- truncation: head_tail, the first {head} and the last {meta.get('max_length', 0) - 2 - head} "
                "tokens of a longer comment (plain transformers reads the first ones only)")
    return "- truncation: head, the first tokens of a longer comment"
