"""Hostile input at every door: random CSV bytes, params values and texts (hypothesis), and the
specific cases that once ended in a traceback or went through silently.

Each property: a door either does its job (a valid table, valid splits, typed Params, a
probability in [0, 1] per tag) or fails with the project's own one-line error (a
ToxicTaggerError; through the CLI one `error:` line and status 1), and no input file or earlier
output changes. Examples are kept few so the file stays fast (~15 s); the counts:
`pytest tests/test_hostile_inputs.py --hypothesis-show-statistics`.
"""

import gzip
import hashlib
import io
import json
import os
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import FIXTURE_CSV, ROOT, in_process, one_line_error
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from toxic_tagger import COLUMNS, ID_COLUMN, LABELS, TEXT_COLUMN
from toxic_tagger.atomic_files import write_csv
from toxic_tagger.config import FetchParams, Params, SplitParams, load_params
from toxic_tagger.data.comments_csv import read_split
from toxic_tagger.data.fetch import fetch_comments
from toxic_tagger.data.split import make_splits
from toxic_tagger.errors import InputError, ToxicTaggerError

USES_CAPSYS = [HealthCheck.function_scoped_fixture]  # capsys is read and emptied on every example


def assert_one_line(message: str) -> None:
    assert message.strip() and len(message.strip().splitlines()) == 1, repr(message)


def files_in(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def csv_text(rows: list[list[str]], ending: str = "\n") -> str:
    """Rows as CSV, a field quoted when it holds a comma, a quote, CR or LF (csv.writer leaves a
    lone CR bare when lines end in LF, and a reader then ends the row there)."""
    def field(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\r\n') else value

    return "".join(",".join(map(field, row)) + ending for row in rows)


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


# --- params.yaml: one random key's value replaced ---------------------------------------------

PARAMS_TEXT = (ROOT / "params.yaml").read_text(encoding="utf-8")


def _leaf_spans(node: yaml.Node, prefix: str = "") -> list[tuple[str, int, int]]:
    """(dotted key, start, end) of every leaf value in params.yaml's text."""
    spans = []
    for key, value in node.value:
        if isinstance(value, yaml.MappingNode):
            spans += _leaf_spans(value, f"{prefix}{key.value}.")
        else:
            spans.append((prefix + key.value, value.start_mark.index, value.end_mark.index))
    return spans


LEAVES = _leaf_spans(yaml.compose(PARAMS_TEXT, Loader=yaml.SafeLoader))
SCALARS = st.one_of(st.integers(-2**70, 2**70), st.integers(-3, 300), st.floats(), st.booleans(), st.none(),
                    st.text(max_size=12), st.sampled_from(["sample", "3e-05", "1.0e-4", ".inf", "null", "~", ""]))
YAML_GARBAGE = st.lists(st.sampled_from([*":{}[]&*!|>'\"%@`#,-? \t\n\\", "!!python/object/apply:os.system ['true']",
                                         "!!binary", "&a", "*a", "<<: *a", "\x00", "\x85", "\ufeff", "é", "a: b", "- 1"]),
                        max_size=6).map("".join)


def _dump(value) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10**6).removesuffix("\n").removesuffix("\n...")


@st.composite
def params_files(draw, keep: tuple[str, ...] = ()) -> tuple[str, bytes]:
    """(key, bytes of params.yaml with that key's value replaced): a YAML scalar, a list,
    garbage text or raw bytes (also not UTF-8)."""
    key, start, end = draw(st.sampled_from([leaf for leaf in LEAVES if leaf[0] not in keep]))
    replacement = draw(st.one_of(SCALARS.map(_dump), st.lists(SCALARS, max_size=4).map(_dump), YAML_GARBAGE,
                                 st.binary(max_size=6)))
    encoded = replacement if isinstance(replacement, bytes) else replacement.encode("utf-8")
    return key, PARAMS_TEXT[:start].encode() + encoded + PARAMS_TEXT[end:].encode()


def _typed(value, like):
    """The YAML value as load_params types it (lists as tuples, numbers as float where typed so)."""
    if isinstance(value, list):
        return tuple(value)
    return float(value) if isinstance(like, float) and not isinstance(value, bool) else value


@settings(max_examples=200, deadline=None)
@given(mutated=params_files())
def test_load_params_random_values_give_params_or_one_line(tmp_path_factory, mutated):
    key, data = mutated
    path = tmp_path_factory.mktemp("params") / "params.yaml"
    path.write_bytes(data)
    try:
        params = load_params(path)
    except InputError as exc:
        assert_one_line(str(exc))
        event("refused")
    else:
        event("loaded")  # accepted: the typed value is the file's value, not a default or a neighbour's
        assert isinstance(params, Params)
        section, *name = key.split(".")
        typed = getattr(params, section) if not name else getattr(getattr(params, section), name[0])
        raw = yaml.safe_load(data.decode("utf-8"))
        expected = raw[section] if not name else raw[section][name[0]]
        assert typed == _typed(expected, typed)
    assert path.read_bytes() == data


@settings(max_examples=40, deadline=None, suppress_health_check=USES_CAPSYS)
@given(mutated=params_files(keep=("model.name",)))  # a random hub id is a network call
def test_check_params_cli_random_values_exit_0_or_one_line(tmp_path_factory, capsys, mutated):
    _, data = mutated
    folder = tmp_path_factory.mktemp("check")
    path = folder / "params.yaml"
    path.write_bytes(data)
    code, out, err = in_process(capsys, "check-params", str(path))
    event(f"exit {code}")
    if code == 0:
        assert out == f"{path}: ok\n" and err == ""
    else:
        assert code == 1 and err.startswith("error: ") and out == ""
        assert_one_line(err)
    assert path.read_bytes() == data and files_in(folder) == ["params.yaml"]


# --- predict: random texts through the Python API and the CLI ---------------------------------

TEXTS = st.one_of(
    st.text(max_size=30),  # any code point: control characters, emoji, combining marks, RTL, blank
    st.text(st.sampled_from(" \t\n\r\x0b\x0c\x85\xa0\u2028\u3000"), max_size=4),  # blank of every kind
    st.text(min_size=1, max_size=4).map(lambda s: s * 500),  # long: far past max_length tokens
    st.sampled_from(["😀" * 300, "\x00", "\u200b", "\ufeff", "a" * 20_000, "\U0001F3F3\uFE0F\u200D\U0001F308"]),
)


@pytest.fixture(scope="module")
def tagger(untrained_export):
    from toxic_tagger.predict.tagger import Tagger

    return Tagger.load(untrained_export, progress=False)


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(TEXTS, min_size=1, max_size=5))
def test_tagger_random_texts_give_probabilities_or_one_line(tagger, texts):
    from toxic_tagger.predict.tagger import CommentError

    blank = [i for i, text in enumerate(texts) if not text.strip()]
    event("a blank text" if blank else "scored")
    if blank:
        with pytest.raises(CommentError) as err:
            tagger.predict_proba(texts)
        assert_one_line(str(err.value))
        assert str(err.value).startswith(f"text {blank[0]}: ")
        return
    probs = tagger.predict_proba(texts)
    assert probs.shape == (len(texts), len(LABELS)) and np.isfinite(probs).all()
    assert ((probs >= 0) & (probs <= 1)).all()
    alone = np.vstack([tagger.predict_proba([text]) for text in texts])  # a comment's score ignores its batch
    np.testing.assert_allclose(probs, alone, atol=1e-4)


def _write_comments(path: Path, texts: list[str]) -> bytes:
    path.write_text(csv_text([[ID_COLUMN, TEXT_COLUMN], *([str(i), text] for i, text in enumerate(texts))]),
                    encoding="utf-8", newline="")
    return path.read_bytes()


@settings(max_examples=15, deadline=None, suppress_health_check=USES_CAPSYS)
@given(texts=st.lists(TEXTS, min_size=1, max_size=4), earlier=st.booleans())
def test_predict_cli_random_texts_write_scores_or_fail_leaving_files_alone(untrained_export, tmp_path_factory,
                                                                           capsys, texts, earlier):
    folder = tmp_path_factory.mktemp("predict")
    source, out = folder / "comments.csv", folder / "tags.csv"
    data = _write_comments(source, texts)
    if earlier:
        out.write_text("an earlier output\n")
    code, _, err = in_process(capsys, "predict", "--model", str(untrained_export), "--input", str(source),
                              "--output", str(out), *(["--overwrite"] if earlier else []))
    event(f"exit {code}")
    assert source.read_bytes() == data
    assert files_in(folder) == (["comments.csv", "tags.csv"] if earlier or code == 0 else ["comments.csv"])
    if any(not text.strip() for text in texts):
        assert code == 1 and err.startswith("error: ") and "empty comment" in err
        assert_one_line(err)
        assert not earlier or out.read_text() == "an earlier output\n"
        return
    assert code == 0, err
    scored = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert scored[TEXT_COLUMN].tolist() == texts
    probs = scored[list(LABELS)].astype(float).to_numpy()
    assert ((probs >= 0) & (probs <= 1)).all()


@settings(max_examples=15, deadline=None, suppress_health_check=USES_CAPSYS)
@given(data=st.one_of(st.binary(max_size=60), st.text(max_size=60).map(str.encode)))
def test_predict_stdin_random_bytes_give_json_lines_or_one_line(untrained_export, capsys, data):
    real_stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(data))
    try:
        code, out, err = in_process(capsys, "predict", "--model", str(untrained_export), "--input", "-")
    finally:
        sys.stdin = real_stdin
    event(f"exit {code}")
    if code == 0:  # one JSON line per non-blank input line, its text as read
        lines = data.decode("utf-8-sig").split("\n")
        assert err == "" and out.endswith("\n")
        assert [json.loads(record)["text"] for record in out[:-1].split("\n")] == [
            line.rstrip("\r") for line in lines if line.strip()]
    else:
        assert code == 1 and err.startswith("error: <stdin>: ") and out == ""
        assert_one_line(err)


# --- the specific cases ---------------------------------------------------------------------

LONG_COMMENT = "word " * 30_000  # 150000 characters: past the csv module's default field limit (131072)


def test_a_comment_longer_than_the_csv_field_limit_is_read_whole(tmp_path, untrained_export, capsys):
    rows = [",".join(COLUMNS), f'1,"{LONG_COMMENT}",1,0,0,0,0,0', "2,short,0,0,0,0,0,0"]
    (tmp_path / "raw.csv").write_text("\n".join(rows) + "\n")
    table = fetch_comments(FetchParams(source="raw.csv", sha256=None, sample_rows=100), 0, tmp_path).table
    assert table[TEXT_COLUMN].tolist() == [LONG_COMMENT, "short"]
    source, out = tmp_path / "comments.csv", tmp_path / "tags.csv"
    _write_comments(source, [LONG_COMMENT, "short"])
    code, _, err = in_process(capsys, "predict", "--model", str(untrained_export), "--input", str(source),
                              "--output", str(out))
    assert code == 0, err
    assert pd.read_csv(out, dtype=str)["truncated"].tolist() == ["1", "0"]


def test_a_lone_carriage_return_survives_the_pipeline_csvs_and_predict_output(tmp_path, untrained_export, capsys):
    # csv.writer (Python 3.11) left "a\rb" unquoted: readers split the row there
    table = pd.DataFrame({ID_COLUMN: ["1", "2"], TEXT_COLUMN: ["a\rb", "ends in CR\r"],
                          **{label: np.array([1, 0], dtype=np.int8) for label in LABELS}})
    write_csv(tmp_path / "raw.csv", table)
    pd.testing.assert_frame_equal(read_split(tmp_path / "raw.csv"), table)
    code, _, err = in_process(capsys, "predict", "--model", str(untrained_export), "--input", str(tmp_path / "raw.csv"),
                              "--output", str(tmp_path / "tags.csv"))
    assert code == 0, err
    assert pd.read_csv(tmp_path / "tags.csv", dtype=str)[TEXT_COLUMN].tolist() == ["a\rb", "ends in CR\r"]


def test_undecodable_bytes_in_a_fetch_source_name_row_and_column(tmp_path):
    (tmp_path / "raw.csv").write_bytes(f"{','.join(COLUMNS)}\n1,caf\xe9,0,0,0,0,0,0\n".encode("latin-1"))
    with pytest.raises(InputError) as err:
        fetch_comments(FetchParams(source="raw.csv", sha256=None, sample_rows=100), 0, tmp_path)
    assert str(err.value).endswith("raw.csv: row 2, column 'comment_text': not valid UTF-8 (byte 0xe9 at offset 76)")


@pytest.mark.parametrize(("args", "message"), [
    (["predict", "--max-tokens-per-batch", "0", "hi"], "argument --max-tokens-per-batch: expected an integer >= 1, got '0'"),
    (["predict", "--threads", "-1", "hi"], "argument --threads: expected an integer >= 0, got '-1'"),
    (["predict", "--threads", "two", "hi"], "argument --threads: expected an integer >= 0, got 'two'"),
    (["serve", "--port", "70000"], "argument --port: expected a port number from 1 to 65535, got '70000'"),
    (["serve", "--threads", "-1"], "argument --threads: expected an integer >= 0, got '-1'"),
    (["serve", "--max-texts", "0"], "argument --max-texts: expected an integer >= 1, got '0'"),
    (["serve", "--max-text-chars", "-5"], "argument --max-text-chars: expected an integer >= 1, got '-5'"),
    (["serve", "--max-body-bytes", "1e6"], "argument --max-body-bytes: expected an integer >= 1, got '1e6'"),
    (["serve", "--batch-window-ms", "nan"], "argument --batch-window-ms: expected a finite number >= 0, got 'nan'"),
    (["serve", "--batch-window-ms", "-1"], "argument --batch-window-ms: expected a finite number >= 0, got '-1'"),
])
def test_numeric_options_out_of_range_are_one_usage_line(tmp_path, capsys, args, message):
    # the model folder does not exist: had parsing let the value through, the error would name it
    code, out, err = in_process(capsys, *args, "--model", str(tmp_path / "no-model"))
    assert code == 2 and out == ""
    assert err == f"toxic-tagger {args[0]}: error: {message} (see toxic-tagger {args[0]} --help)\n"


def test_report_output_follows_predicts_rules(tmp_path, capsys):
    existing = tmp_path / "report.md"
    existing.write_text("last week's report\n")
    # the output is checked before git or DVC run: --repo need not even be a repository
    report = ("report", "--base", "main", "--repo", str(tmp_path))
    assert one_line_error(capsys, *report, "--output", str(existing)) == (
        f"error: {existing}: already exists; pass --overwrite to replace it")
    assert existing.read_text() == "last week's report\n"
    missing = tmp_path / "new" / "report.md"
    assert one_line_error(capsys, *report, "--output", str(missing)) == (
        f"error: {missing}: {missing.parent} does not exist")
    assert "is a folder" in one_line_error(capsys, *report, "--output", str(tmp_path))
    assert "is not inside a DVC repository" in one_line_error(capsys, *report, "--output", str(existing), "--overwrite")
    assert files_in(tmp_path) == ["report.md"] and existing.read_text() == "last week's report\n"


def test_blank_comments_are_refused_from_arguments_files_and_stdin(untrained_export, tmp_path, capsys):
    model = ("--model", str(untrained_export))
    assert one_line_error(capsys, "predict", *model, "fine", " \t") == "error: arguments: argument 2: empty comment"
    source = tmp_path / "comments.csv"
    _write_comments(source, ["fine", "\u3000"])
    assert one_line_error(capsys, "predict", *model, "--input", str(source)) == (
        f"error: {source}: row 3, column 'comment_text': empty comment")
    lines = tmp_path / "comments.txt"
    lines.write_text(" \n\t\n")  # in line files a blank line separates; only blank lines is an error
    assert one_line_error(capsys, "predict", *model, "--input", str(lines)) == (
        f"error: {lines}: no comments: every line is blank")


def test_paths_no_file_system_can_hold_are_one_line(untrained_export, tmp_path, capsys):
    long_name = "a" * 300  # over the 255-byte name limit: pathlib's tests raise OSError on it
    params = tmp_path / "params.yaml"
    for old, new in [("source: sample", f"source: {long_name}.csv"), ("source: sample", "source: ~nosuchuser/x.csv"),
                     ("name: sentence-transformers/all-MiniLM-L6-v2", f"name: ./{long_name}")]:
        params.write_text(PARAMS_TEXT.replace(old, new, 1))
        assert "no such" in one_line_error(capsys, "check-params", str(params))
    for source in (f"{long_name}.csv", "~nosuchuser/x.csv"):
        with pytest.raises(InputError, match="fetch.source: no such file"):
            fetch_comments(FetchParams(source=source, sha256=None, sample_rows=100), 0, tmp_path)
    assert "not an exported toxic-tagger model" in one_line_error(capsys, "predict", "--model", long_name, "hi")
    assert "does not exist" in one_line_error(capsys, "predict", "--model", str(untrained_export), "hi",
                                              "--output", f"{long_name}/tags.csv")
    assert "cannot write: File name too long" in one_line_error(capsys, "predict", "--model", str(untrained_export),
                                                                "hi", "--output", str(tmp_path / f"{long_name}.csv"))
    assert "cannot read file" in one_line_error(capsys, "predict", "--model", str(untrained_export),
                                                "--input", f"{long_name}.csv")
