"""The model card that travels inside the exported folder: `README.md` with Hugging Face metadata.

`hub_card(meta, weights, val)` returns the Markdown of a `huggingface_hub.ModelCard`: YAML
metadata (licence, language, pipeline tag, tags, base model, datasets, metrics and the
validation results as a model index) over a body with usage, the blend, the per-tag validation
scores the thresholds were tuned on, the training params and the intended use and limits.
`dvc artifacts get`, a copy of the folder and a hub upload all carry it. Test-split metrics are
written later by the evaluate stage (metrics/eval.json, models/MODEL_CARD.md): the export is
made before any test comment is scored.
"""

from __future__ import annotations

import numpy as np

from toxic_tagger import LABELS
from toxic_tagger.evaluate.card_sections import truncation_line
from toxic_tagger.evaluate.model_card import INTENDED_USE, ensemble_section, thresholds_note

# all-MiniLM-L6-v2, the default base model, is Apache-2.0; the Jigsaw comments are CC BY-SA 3.0
LICENSE = "apache-2.0"
JIGSAW = "jigsaw_toxicity_pred"


def hub_card(meta: dict, weights: np.ndarray, val: dict | None = None) -> str:
    """README.md text for an exported folder: `meta` is its toxic_tagger.json, `weights` the
    baseline's blend weight per tag (6,), `val` {"mean_auroc": x, "auroc": (6,), "f1": (6,)}
    of the exported scores on the validation split (None: not known, e.g. a hand-made export)."""
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    base = str(meta.get("base_model") or "")
    sample = meta.get("data_source") == "sample"
    results = [] if val is None else [EvalResult(
        task_type="text-classification", dataset_type=JIGSAW if not sample else "synthetic",
        dataset_name="validation split", dataset_split="validation", metric_type="roc_auc",
        metric_name="mean AUROC over the six tags", metric_value=round(float(val["mean_auroc"]), 4))]
    data = ModelCardData(
        license=LICENSE, language="en", library_name="transformers", pipeline_tag="text-classification",
        tags=["toxicity", "multi-label-classification", "toxic-tagger"], metrics=["roc_auc", "f1"],
        base_model=base if base.count("/") == 1 and not base.startswith((".", "/", "~")) else None,
        datasets=None if sample else [JIGSAW], model_name="toxic-tagger", eval_results=results or None)
    return ModelCard.from_template(data, template_str=_body(meta, weights, val)).content


def _body(meta: dict, weights: np.ndarray, val: dict | None) -> str:
    params = meta.get("params", {})
    param_lines = "\n".join(f"- `{key if key == section else f'{section}.{key}'}`: `{value}`"
                            for section, values in params.items() for key, value in values.items())
    return f"""---
{{{{ card_data }}}}
---

# toxic-tagger

Tags comments with {", ".join(LABELS)} (multi-label), fine-tuned from `{meta.get("base_model")}` on
`{meta.get("data_source")}` (sha256 `{meta.get("data_sha256")}`).

```python
from toxic_tagger import Tagger
Tagger.load("<this folder>").predict(["some comment"])   # probabilities, tags over the thresholds
```

Plain transformers: `pipeline("text-classification", model="<this folder>", top_k=None)` gives
the transformer's per-tag probabilities (sigmoid). {thresholds_note(meta, weights)}

{ensemble_section(meta, weights)}

## Validation scores (the split the thresholds were tuned on)

{_val_table(meta, val)}

## Training parameters

{param_lines or "- not recorded"}
- `max_length` (truncation): {meta.get("max_length")} tokens
{truncation_line(meta)}
- calibration of the blended score, per tag (chosen on val): {_calibration_kinds(meta)}

{INTENDED_USE}"""


def _calibration_kinds(meta: dict) -> str:
    tags = (meta.get("calibration") or {}).get("tags") or []
    return ", ".join(f"{entry.get('tag')} {entry.get('kind')}" for entry in tags) or "none recorded"


def _val_table(meta: dict, val: dict | None) -> str:
    thresholds = meta.get("thresholds", {})
    if val is None:
        return "Not recorded for this export."
    rows = "\n".join(f"| {label} | {val['auroc'][j]:.4f} | {val['f1'][j]:.3f} | {thresholds.get(label, 0.5):.3f} |"
                     for j, label in enumerate(LABELS))
    return (f"| tag | AUROC | F1 at the threshold | threshold |\n|---|---|---|---|\n{rows}\n\n"
            f"Mean AUROC {val['mean_auroc']:.4f}. Test-split metrics: the evaluate stage's model card.")
