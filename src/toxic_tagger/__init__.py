"""toxic-tagger: multi-label toxicity tagging of comments with a fine-tuned transformer.

The library behind the DVC stages in `stages/`; see README.md for the pipeline.
"""

LABELS: tuple[str, ...] = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
ID_COLUMN = "id"
TEXT_COLUMN = "comment_text"
COLUMNS: tuple[str, ...] = (ID_COLUMN, TEXT_COLUMN, *LABELS)

__version__ = "0.1.0"
