"""toxic-tagger: multi-label toxicity tagging of comments with a fine-tuned transformer.

The library behind the DVC stages in `stages/` (see README.md for the pipeline), and the
Python API: `from toxic_tagger import Tagger` (predict/tagger.py).
"""

import importlib

LABELS: tuple[str, ...] = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
ID_COLUMN = "id"
TEXT_COLUMN = "comment_text"
COLUMNS: tuple[str, ...] = (ID_COLUMN, TEXT_COLUMN, *LABELS)

__version__ = "0.1.0"


def __getattr__(name: str):
    # Tagger on first use only: importing the package (every stage does) must not load torch.
    if name == "Tagger":
        return importlib.import_module("toxic_tagger.predict.tagger").Tagger
    raise AttributeError(f"module 'toxic_tagger' has no attribute {name!r}")
