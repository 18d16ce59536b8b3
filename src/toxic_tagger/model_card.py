"""The model card written next to the exported model (Markdown).

Inputs: the exported model's metadata (`toxic_tagger.json`: data source and sha256, base
model, training params, thresholds), the split summary (metrics/split.json) and the
evaluation report (metrics/eval.json layout). Output: Markdown text.
"""

from __future__ import annotations

from toxic_tagger import LABELS

INTENDED_USE = """\
## Intended use

Flag English-language online comments (talk pages, forums, comment sections) that may be
toxic, for human review or for ranking a moderation queue. Scores are probabilities per tag;
a tag is predicted when its score reaches the tag's threshold (tuned on the validation split
for maximum F1). Not intended for automated sanctions without human review.

## Known limits

- English only; trained on Wikipedia talk-page comments (or the synthetic sample, see Data).
- Comments are truncated at `max_length` tokens: text after that is not read.
- Identity terms: models trained on this data are known to score neutral mentions of
  identity groups (e.g. religions, sexual orientations) as more toxic; check before use.
- Rare tags (`threat`, `identity_hate`, `severe_toxic`) have few positives; their metrics
  carry wide confidence intervals (the metrics tables above).
- Labels are crowd-sourced and noisy; sarcasm, quotes of abuse and reclaimed slurs are hard.
"""


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def metrics_table(report: dict) -> str:
    """Per-tag Markdown table of one split's report (metrics.split_report layout)."""
    lines = ["| tag | AUROC (95% CI) | precision | recall | F1 (95% CI) | F1 at 0.5 | threshold | support |",
             "|---|---|---|---|---|---|---|---|"]
    for label in LABELS:
        r = report[label]
        lines.append(
            f"| {label} | {_fmt(r['auroc'])} ({_fmt(r['auroc_ci95_low'])}-{_fmt(r['auroc_ci95_high'])}) "
            f"| {_fmt(r['precision'])} | {_fmt(r['recall'])} "
            f"| {_fmt(r['f1'])} ({_fmt(r['f1_ci95_low'])}-{_fmt(r['f1_ci95_high'])}) "
            f"| {_fmt(r['at_0_5']['f1'])} | {_fmt(r['threshold'])} | {r['support']} |"
        )
    lines.append(f"| **mean / micro / macro** | {_fmt(report['mean_auroc'])} | | | micro {_fmt(report['micro_f1'])}, "
                 f"macro {_fmt(report['macro_f1'])} | micro {_fmt(report['at_0_5']['micro_f1'])}, "
                 f"macro {_fmt(report['at_0_5']['macro_f1'])} | | {report['rows']} rows |")
    return "\n".join(lines)


def ensemble_section(meta: dict) -> str:
    """How the exported parts combine into the scores the metrics and thresholds refer to."""
    from toxic_tagger.export import blend_weights

    blend, weights = meta.get("blend") or {}, blend_weights(meta)
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
safetensors; `toxic_tagger.baseline.load_baseline`). The metrics and thresholds below are
those of the blended score; plain transformers alone gives `p_transformer`.

| tag | baseline weight |
|---|---|
{rows}"""


def thresholds_note(meta: dict) -> str:
    """Which score the tuned thresholds in toxic_tagger.json apply to."""
    from toxic_tagger.export import blend_weights

    if (meta.get("blend") or {}).get("baseline") and blend_weights(meta).any():
        return ("The tuned thresholds in `toxic_tagger.json` apply to the blended score (Model, below),\n"
                "not to these probabilities alone: `toxic-tagger predict` computes the blend.")
    return "The tuned thresholds in `toxic_tagger.json` apply to these probabilities."


def render_card(meta: dict, splits: dict, evaluation: dict) -> str:
    """The full model card as Markdown."""
    params = meta.get("params", {})
    rows = " / ".join(f"{name} {splits[name]['rows']}" for name in ("train", "val", "test"))
    # a top-level key such as `seed` is stored as {"seed": {"seed": 42}}: name it once
    param_lines = "\n".join(f"- `{key if key == section else f'{section}.{key}'}`: `{value}`"
                            for section, values in params.items() for key, value in values.items())
    return f"""# toxic-tagger model card

Multi-label toxicity tagger ({", ".join(LABELS)}), fine-tuned from `{meta.get("base_model")}`.
Opens with plain transformers: `pipeline("text-classification", model=<this directory>, top_k=None)`
gives the transformer's per-tag probabilities (sigmoid). {thresholds_note(meta)}

## Data

- Source: `{meta.get("data_source")}` (sha256 `{meta.get("data_sha256")}`)
- Splits (rows): {rows}; train is balanced (every tagged row plus
  {splits["balance"]["clean_rows_used"]} untagged rows), val and test keep the natural distribution.
- Thresholds and the best epoch were chosen on val; test was used only for this report.

{ensemble_section(meta)}

## Test metrics

{metrics_table(evaluation["test"])}

## Validation metrics

{metrics_table(evaluation["val"])}

## Training parameters

{param_lines}
- exported `max_length` (truncation): {meta.get("max_length")} tokens

{INTENDED_USE}"""
