"""The model card written next to the exported model (Markdown).

Inputs: the exported model's metadata (`toxic_tagger.json`: data source and sha256, base
model, training params, thresholds), the split summary (metrics/split.json) and the
evaluation report (metrics/eval.json layout: metrics, calibration, identity-subgroup bias and
the val error analysis, whose sections card_sections.py renders). Output: Markdown text.
"""

from __future__ import annotations

import numpy as np

from toxic_tagger import LABELS
from toxic_tagger.evaluate.card_sections import bias_section, calibration_section, errors_section, truncation_line
from toxic_tagger.evaluate.results_table import metrics_table

INTENDED_USE = """\
## Intended use

Flag English-language online comments (talk pages, forums, comment sections) that may be
toxic, for human review or for ranking a moderation queue. Scores are probabilities per tag;
a tag is predicted when its score reaches the tag's threshold (tuned on the validation split
for maximum F1, on the calibrated scores). Not intended for automated sanctions without human
review.

## Known limits

- English only; trained on Wikipedia talk-page comments (or the synthetic sample, see Data).
- Comments over `max_length` tokens are cut: the transformer reads their first tokens (or,
  under truncation head_tail, their first and last ones) and not the rest.
- Identity terms: models trained on this data are known to score neutral mentions of
  identity groups (e.g. religions, sexual orientations) as more toxic; check before use.
- Rare tags (`threat`, `identity_hate`, `severe_toxic`) have few positives; their metrics
  carry wide confidence intervals (the metrics tables above).
- Labels are crowd-sourced and noisy; sarcasm, quotes of abuse and reclaimed slurs are hard.
"""


def ensemble_section(meta: dict, weights: np.ndarray) -> str:
    """How the exported parts combine into the scores the metrics and thresholds refer to;
    `weights`: the baseline's blend weight per tag (6,)."""
    blend = meta.get("blend") or {}
    if not blend.get("baseline") or not weights.any():
        return "## Model\n\nThe transformer alone: a tag's score is the sigmoid of its logit."
    rows = "\n".join(f"| {label} | {weight:.2f} |" for label, weight in zip(LABELS, weights))
    return f"""## Model: transformer + TF-IDF ensemble

A tag's score blends two parts with a weight per tag (tuned per tag on val for the best val
AUROC when `train.baseline_weight` is null, else that fixed weight):
`{blend.get("formula")}`.
`p_transformer` is the sigmoid of the transformer's logit (this directory, plain
transformers); `p_baseline` comes from the TF-IDF (word and character n-grams) + logistic
regression model in `{blend["baseline"]}/` (vocabulary and IDF as JSON, weights as
safetensors; `toxic_tagger.model.baseline.load_baseline`). The metrics and thresholds below are
those of the blended score; plain transformers alone gives `p_transformer`.

| tag | baseline weight |
|---|---|
{rows}"""


def thresholds_note(meta: dict, weights: np.ndarray) -> str:
    """Which score the tuned thresholds in toxic_tagger.json apply to."""
    if (meta.get("blend") or {}).get("baseline") and weights.any():
        return ("The tuned thresholds in `toxic_tagger.json` apply to the blended score (Model, below),\n"
                "not to these probabilities alone: `toxic-tagger predict` computes the blend.")
    return "The tuned thresholds in `toxic_tagger.json` apply to these probabilities."


def render_card(meta: dict, splits: dict, evaluation: dict, baseline_weights: np.ndarray) -> str:
    """The full model card as Markdown: `meta` is the export's toxic_tagger.json, `splits`
    metrics/split.json, `evaluation` metrics/eval.json, `baseline_weights` the export's blend
    weight per tag (6,; zeros: transformer alone)."""
    params = meta.get("params", {})
    rows = " / ".join(f"{name} {splits[name]['rows']}" for name in ("train", "val", "test"))
    # a top-level key such as `seed` is stored as {"seed": {"seed": 42}}: name it once
    param_lines = "\n".join(f"- `{key if key == section else f'{section}.{key}'}`: `{value}`"
                            for section, values in params.items() for key, value in values.items())
    return f"""# toxic-tagger model card

Multi-label toxicity tagger ({", ".join(LABELS)}), fine-tuned from `{meta.get("base_model")}`.
Opens with plain transformers: `pipeline("text-classification", model=<this directory>, top_k=None)`
gives the transformer's per-tag probabilities (sigmoid). {thresholds_note(meta, baseline_weights)}

## Data

- Source: `{meta.get("data_source")}` (sha256 `{meta.get("data_sha256")}`)
- Splits (rows): {rows}; train is balanced (every tagged row plus
  {splits["balance"]["clean_rows_used"]} untagged rows), val and test keep the natural distribution.
- Thresholds and the best epoch were chosen on val; test was used only for this report.

{ensemble_section(meta, baseline_weights)}

{refit_note(meta)}## Test metrics

{metrics_table(evaluation["test"])}

## Validation metrics

{metrics_table(evaluation["val"])}

{calibration_section(evaluation)}

{bias_section(evaluation)}

## Training parameters

{param_lines}
- exported `max_length` (truncation): {meta.get("max_length")} tokens
{truncation_line(meta)}

{INTENDED_USE}
{errors_section(evaluation)}
"""


def refit_note(meta: dict) -> str:
    """Under train.refit_on_val the exported transformer (and blended baseline) also trained on val."""
    refit = meta.get("refit_on_val")
    if not refit:
        return ""
    what = "transformer and the TF-IDF baseline blended in were" if refit.get("baseline") else "transformer was"
    return (f"The exported {what} refitted on train + val ({refit['rows']} rows, {refit['epochs']} epochs) "
            "after the blend, the calibration and the thresholds were chosen on val: its val metrics below are "
            "in-sample; test is the honest estimate.\n\n")
