"""Hostile comment tables (hypothesis): random CSV bytes as a fetch source, well-formed tables
read back exactly, random tables through balance_split.

Each property: a door either does its job or fails with the project's own one-line error (a
ToxicTaggerError; through the CLI one `error:` line and status 1), and no input file or earlier
output changes. Examples are kept few so the files stay fast; the counts:
`pytest tests/test_hostile_*.py --hypothesis-show-statistics`.
"""

import gzip
import hashlib
import io
import zipfile

import numpy as np
import pandas as pd
from conftest import FIXTURE_CSV
from hostile import assert_one_line, csv_text, files_in
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from toxic_tagger import COLUMNS, ID_COLUMN, LABELS, TEXT_COLUMN
from toxic_tagger.atomic_files import write_csv
from toxic_tagger.config import FetchParams, SplitParams
from toxic_tagger.data.comments_csv import read_split
from toxic_tagger.data.fetch import fetch_comments
from toxic_tagger.data.split import make_splits
from toxic_tagger.errors import ToxicTaggerError

# --- fetch: random bytes and CSV-like text as the source file -------------------------------

CELL_CHARS = st.sampled_from(list('ab 01,"\n\r\t\x00é\ufeff😀\\\'\x85'))
CELLS = st.text(CELL_CHARS, max_size=6)
LABEL_CELLS = st.sampled_from(["0", "1", "0", "1", " 1", "2", "", "1.0", "x"])


@st.composite
def csv_like(draw) -> bytes:
    """A header (the schema, shuffled or broken) and a few rows of awkward cells, quoted properly
    or joined naively, sometimes with a field too many or too few."""
    header = draw(st.one_of(st.just(list(COLUMNS)), st.permutations(COLUMNS),
                            st.lists(st.sampled_from([*COLUMNS, "extra", ""]), max_size=9)))
    rows = []
    for index in range(draw(st.integers(0, 5))):
        row = [draw(st.one_of(st.just(str(index)), CELLS)) if name == ID_COLUMN
               else draw(LABEL_CELLS) if name in LABELS else draw(CELLS) for name in header]
        rows.append(row + [draw(CELLS)] * draw(st.sampled_from([0, 0, 0, 1])))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    if draw(st.booleans()):
        text = csv_text([header, *rows], ending)
    else:
        text = ending.join(",".join(row) for row in [header, *rows])
    return draw(st.sampled_from(["", "\ufeff"])).encode() + text.encode("utf-8")


@st.composite
def mutated_fixture(draw) -> bytes:
    """The fixture CSV with a random slice replaced by random bytes."""
    data = FIXTURE_CSV.read_bytes()
    start = draw(st.integers(0, len(data)))
    end = draw(st.integers(start, min(len(data), start + 40)))
    return data[:start] + draw(st.binary(max_size=12)) + data[end:]


@st.composite
def fetch_sources(draw) -> tuple[str, bytes]:
    """(file name, bytes): random or CSV-like bytes as .csv, or inside (or posing as) .gz / .zip."""
    data = draw(st.one_of(st.binary(max_size=200), csv_like(), mutated_fixture()))
    name = draw(st.sampled_from(["comments.csv", "comments.csv", "comments.csv.gz", "comments.zip"]))
    if name.endswith(".gz") and draw(st.booleans()):
        data = gzip.compress(data)
    if name.endswith(".zip") and draw(st.booleans()):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(draw(st.sampled_from(["train.csv", "a.csv", "notes.txt"])), data)
        data = buffer.getvalue()
    return name, data


def assert_valid_table(table: pd.DataFrame) -> None:
    assert list(table.columns) == list(COLUMNS) and len(table) >= 1
    assert table[ID_COLUMN].is_unique and (table[ID_COLUMN].str.strip() != "").all()
    assert (table[TEXT_COLUMN].str.strip() != "").all()
    for label in LABELS:
        assert table[label].dtype == np.int8 and set(table[label]) <= {0, 1}


@settings(max_examples=150, deadline=None)
@given(source=fetch_sources())
def test_fetch_random_sources_give_a_valid_table_or_one_line(tmp_path_factory, source):
    name, data = source
    folder = tmp_path_factory.mktemp("fetch")
    (folder / name).write_bytes(data)
    try:
        fetched = fetch_comments(FetchParams(source=name, sha256=None, sample_rows=100), seed=0, root=folder)
    except ToxicTaggerError as exc:
        assert_one_line(str(exc))
        event("refused")
    else:
        event("read")
        assert_valid_table(fetched.table)
        assert fetched.sha256 == hashlib.sha256(data).hexdigest()
    assert (folder / name).read_bytes() == data and files_in(folder) == [name]


WELL_FORMED_CELLS = st.text(CELL_CHARS, min_size=1, max_size=6).filter(str.strip)


@settings(max_examples=60, deadline=None)
@given(columns=st.permutations(COLUMNS),
       rows=st.lists(st.tuples(WELL_FORMED_CELLS, st.lists(st.sampled_from(["0", "1"]), min_size=6, max_size=6)),
                     min_size=1, max_size=5),
       ending=st.sampled_from(["\n", "\r\n"]))
def test_a_well_formed_table_is_read_exactly(tmp_path_factory, columns, rows, ending):
    """Nothing silently wrong: properly quoted awkward cells (commas, quotes, line breaks, a lone
    CR, NUL, BOM, emoji) come back cell for cell, whatever the column order, and again after the
    fetch stage writes the table and balance_split reads it back."""
    records = [{ID_COLUMN: f"id{i}", TEXT_COLUMN: text, **dict(zip(LABELS, labels))}
               for i, (text, labels) in enumerate(rows)]
    folder = tmp_path_factory.mktemp("exact")
    text = csv_text([columns, *([record[c] for c in columns] for record in records)], ending)
    (folder / "comments.csv").write_text(text, encoding="utf-8", newline="")
    table = fetch_comments(FetchParams(source="comments.csv", sha256=None, sample_rows=100), 0, folder).table
    assert table[TEXT_COLUMN].tolist() == [text for text, _ in rows]
    assert table[ID_COLUMN].tolist() == [r[ID_COLUMN] for r in records]
    assert table[list(LABELS)].to_numpy().tolist() == [[int(v) for v in labels] for _, labels in rows]
    write_csv(folder / "raw.csv", table)
    pd.testing.assert_frame_equal(read_split(folder / "raw.csv"), table)


# --- balance_split: random comment tables -----------------------------------------------------

@st.composite
def comment_tables(draw) -> pd.DataFrame:
    """A validated-looking table (or an empty one): unique ids, non-blank texts (often repeated,
    also up to surrounding spaces), tags of varied density."""
    n = draw(st.integers(0, 60))
    texts = draw(st.lists(st.one_of(st.sampled_from(["a", " a ", "b", "c d", "e"]),
                                    st.text(min_size=1, max_size=4).filter(str.strip)), min_size=n, max_size=n))
    rare = draw(st.sampled_from([2, 4, 10]))
    labels = draw(st.lists(st.lists(st.integers(0, rare - 1).map(lambda v: int(v == 0)), min_size=6, max_size=6),
                           min_size=n, max_size=n))
    table = pd.DataFrame({ID_COLUMN: [f"id{i}" for i in range(n)], TEXT_COLUMN: texts})
    for j, label in enumerate(LABELS):
        table[label] = np.array([row[j] for row in labels], dtype=np.int8)
    return table


@st.composite
def split_params(draw) -> SplitParams:
    """Values load_params accepts: fractions in (0, 1) summing below 1, clean_rows >= 0 or null."""
    usual = st.sampled_from([0.1, 0.15, 0.2, 0.3])  # so that some tables do split
    val = draw(usual | st.floats(0, 1, exclude_min=True, exclude_max=True))
    test = draw(usual.filter(lambda f: val + f < 1) | st.floats(0, 1 - val, exclude_min=True, exclude_max=True))
    assume(val + test < 1)  # rounding
    return SplitParams(val_fraction=val, test_fraction=test, clean_rows=draw(st.none() | st.integers(0, 60)))


def assert_valid_splits(table: pd.DataFrame, splits, params: SplitParams) -> None:
    ids = {name: set(getattr(splits, name)[ID_COLUMN]) for name in ("train", "val", "test")}
    assert not (ids["train"] & ids["val"] or ids["train"] & ids["test"] or ids["val"] & ids["test"])
    natural_train = table[~table[ID_COLUMN].isin(ids["val"] | ids["test"])]
    tagged = natural_train[list(LABELS)].to_numpy().any(axis=1)
    assert set(natural_train[ID_COLUMN][tagged]) <= ids["train"] <= set(natural_train[ID_COLUMN])
    for name in ("train", "val", "test"):  # rows kept whole, every tag present
        frame = getattr(splits, name)
        pd.testing.assert_frame_equal(frame, table.set_index(ID_COLUMN).loc[frame[ID_COLUMN]].reset_index())
        assert (frame[list(LABELS)].sum(axis=0) > 0).all()
    texts = {name: set(table[table[ID_COLUMN].isin(ids[name] if name != "train" else set(natural_train[ID_COLUMN]))]
                       [TEXT_COLUMN].str.strip()) for name in ("train", "val", "test")}
    assert not (texts["train"] & texts["val"] or texts["train"] & texts["test"] or texts["val"] & texts["test"])
    clean = int((~splits.train[list(LABELS)].to_numpy().any(axis=1)).sum())
    expected = splits.balance.available if params.clean_rows is None else min(params.clean_rows, splits.balance.available)
    assert splits.balance.used == clean == expected


@settings(max_examples=120, deadline=None)
@given(table=comment_tables(), params=split_params(), seed=st.integers(0, 2**32 - 1))
def test_balance_split_random_tables_give_valid_splits_or_one_line(table, params, seed):
    before = table.copy(deep=True)
    try:
        splits = make_splits(table, params, seed)
    except ToxicTaggerError as exc:
        assert_one_line(str(exc))
        event("refused")
    else:
        assert_valid_splits(table, splits, params)
        event("split")
    pd.testing.assert_frame_equal(table, before)
