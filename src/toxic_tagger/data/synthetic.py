"""Deterministic synthetic corpus in the Jigsaw schema (the `sample` fetch source).

`generate_sample(rows, seed)` returns a DataFrame with the real columns, tag rates close to
the Jigsaw training data (toxic ~9.6%, obscene ~5.3%, insult ~5%, severe_toxic ~1% and
nested in toxic, identity_hate ~0.9%, threat ~0.3%), realistic co-occurrence, a long tail of
comment lengths, talk-page dirt (line breaks, URLs, IP signatures, non-ASCII) and noise:
tagged comments without an explicit cue, clean comments that quote a cue word, and flipped
labels. A model must learn from the text and cannot reach AUROC 1.0.
Identity-hate cues use invented group names, so no real group is targeted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from toxic_tagger import ID_COLUMN, LABELS, TEXT_COLUMN

SUBJECTS = ["The article", "This section", "Your edit", "The infobox", "That source", "The lead",
            "This page", "The citation", "My revision", "The image caption", "The timeline",
            "The last paragraph", "This template", "The reference list", "The discussion"]
VERBS = ["needs", "should cite", "does not match", "was moved to", "duplicates", "contradicts",
         "relies on", "could use", "was reverted because of", "still lacks", "now includes",
         "ignores", "summarises", "links to", "was merged with"]
OBJECTS = ["a reliable source", "the talk page consensus", "the manual of style", "an older version",
           "the notability guideline", "a primary source", "the archived discussion",
           "the official website", "a neutral point of view", "the main article", "a page number",
           "the deletion policy", "the 2004 census figures", "a better photo", "the edit summary"]
TAILS = ["", "", "", " as far as I can tell", " before anyone reverts it again", " in my opinion",
         " according to the guidelines", " if I remember correctly", " per WP:RS", " thanks",
         " see the history", " last week", " which is odd", " for now"]
OPENERS = ["Hi,", "Hello.", "Thanks for the note.", "Please see below.", "Agreed.", "Not sure.",
           "Quick question:", "Fair point.", "Regarding the merge:", "Re your message:"]
DIRT = ["http://www.example.org/wiki/Page_{n}", "(talk) 10.{a}.{b}.{c}", "— see “{n}” above",
        "café naïve résumé", "[[User:Editor{n}|Editor{n}]]", "~~~~"]

CUES = {
    "toxic": ["you are pathetic", "this is garbage and so are you", "shut up", "nobody cares about you",
              "get lost", "what a joke you are", "you ruin every page you touch", "go away troll"],
    "severe_toxic": ["YOU WORTHLESS PIECE OF GARBAGE", "I HOPE YOU ROT", "DIE IN A FIRE",
                     "DISGUSTING VERMIN"],
    "obscene": ["crap", "damn", "bullshit", "piss off", "screw you", "wtf", "bloody hell", "arse"],
    "insult": ["idiot", "moron", "loser", "imbecile", "fool", "dimwit", "clown", "halfwit"],
    "threat": ["I will find you", "you will regret this", "I am going to hurt you", "watch your back",
               "I know where you live", "you will pay for this"],
    "identity_hate": ["all {g} are filth", "{g} people ruin everything", "go back home you {g}",
                      "I hate {g}", "{g} should be banned from here"],
}
GROUPS = ["zorblans", "kethi", "vormish", "quellans", "dravites"]
QUOTED = ["Please do not call people {w}.", "The word '{w}' was removed from the quote.",
          "Someone wrote {w} in the edit summary, I reverted it.", "Calling it {w} is not helpful."]

# P(tag | toxic) and P(tag | not toxic): shaped like the Jigsaw training data.
RATE_TOXIC = 0.096
GIVEN_TOXIC = {"severe_toxic": 0.10, "obscene": 0.53, "threat": 0.03, "insult": 0.49, "identity_hate": 0.085}
GIVEN_CLEAN = {"severe_toxic": 0.0002, "obscene": 0.004, "threat": 0.0003, "insult": 0.003, "identity_hate": 0.0005}
CUE_PROBABILITY = 0.85  # a tagged comment carries an explicit cue this often
QUOTE_PROBABILITY = 0.03  # a clean comment quotes a cue word this often (hard negatives)
FLIP_NEGATIVE, FLIP_POSITIVE = 0.0005, 0.05  # label noise


def generate_sample(rows: int, seed: int) -> pd.DataFrame:
    """Return `rows` synthetic comments with labels; same (rows, seed) gives the same frame."""
    if rows < 100:
        raise ValueError(f"fetch.sample_rows must be at least 100, got {rows}")
    rng = np.random.default_rng(seed)
    labels = _draw_labels(rng, rows)
    texts = [_comment(rng, labels[i]) for i in range(rows)]
    noisy = _add_label_noise(rng, labels)
    ids = [f"{v:016x}" for v in rng.integers(0, 2**63, size=rows, dtype=np.int64)]
    frame = pd.DataFrame({ID_COLUMN: ids, TEXT_COLUMN: texts})
    for j, label in enumerate(LABELS):
        frame[label] = noisy[:, j].astype(np.int8)
    return frame.drop_duplicates(ID_COLUMN).reset_index(drop=True)


def _draw_labels(rng: np.random.Generator, rows: int) -> np.ndarray:
    """True tags: (rows, 6) int8, with the other tags conditional on `toxic`."""
    out = np.zeros((rows, len(LABELS)), dtype=np.int8)
    toxic = rng.random(rows) < RATE_TOXIC
    out[:, 0] = toxic
    for j, label in enumerate(LABELS[1:], start=1):
        p = np.where(toxic, GIVEN_TOXIC[label], GIVEN_CLEAN[label])
        out[:, j] = rng.random(rows) < p
    return out


def _add_label_noise(rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
    flip = np.where(labels == 1, rng.random(labels.shape) < FLIP_POSITIVE,
                    rng.random(labels.shape) < FLIP_NEGATIVE)
    return np.where(flip, 1 - labels, labels).astype(np.int8)


def _sentence(rng: np.random.Generator) -> str:
    pick = lambda items: items[int(rng.integers(len(items)))]  # noqa: E731
    return f"{pick(SUBJECTS)} {pick(VERBS)} {pick(OBJECTS)}{pick(TAILS)}."


def _comment(rng: np.random.Generator, tags: np.ndarray) -> str:
    """One comment: clean talk-page sentences with cues for its tags spliced in."""
    # Long tail: median ~3 sentences (~50 tokens), 99th percentile ~40 sentences.
    n_sentences = 1 + int(min(rng.lognormal(mean=0.9, sigma=1.05), 150))
    parts = [_sentence(rng) for _ in range(n_sentences)]
    if rng.random() < 0.3:
        parts.insert(0, OPENERS[int(rng.integers(len(OPENERS)))])
    for j, label in enumerate(LABELS):
        if tags[j] and rng.random() < CUE_PROBABILITY:
            parts.insert(int(rng.integers(len(parts) + 1)), _cue(rng, label))
    if not tags.any() and rng.random() < QUOTE_PROBABILITY:
        word = _cue(rng, str(rng.choice(["insult", "obscene"])))
        parts.append(QUOTED[int(rng.integers(len(QUOTED)))].format(w=word))
    if rng.random() < 0.15:
        parts.append(_dirt(rng))
    separator = "\n\n" if rng.random() < 0.2 else " "
    return separator.join(parts)


def _cue(rng: np.random.Generator, label: str) -> str:
    options = CUES[label]
    text = options[int(rng.integers(len(options)))].format(g=GROUPS[int(rng.integers(len(GROUPS)))])
    if label == "severe_toxic" and rng.random() < 0.5:
        text = " ".join([text] * int(rng.integers(2, 6)))
    if label in ("insult", "obscene") and rng.random() < 0.5:
        text = f"you {text}" if label == "insult" else f"what the {text}"
    return text


def _dirt(rng: np.random.Generator) -> str:
    a, b, c, n = (int(v) for v in rng.integers(1, 255, size=4))
    return DIRT[int(rng.integers(len(DIRT)))].format(a=a, b=b, c=c, n=n)
