"""Hostile input at the scoring doors (hypothesis): random texts through the Python API, the CLI
and stdin; and the specific cases that once ended in a traceback or went through silently.

Each property: a door either does its job or fails with the project's own one-line error (a
ToxicTaggerError; through the CLI one `error:` line and status 1), and no input file or earlier
output changes. Examples are kept few so the files stay fast; the counts:
`pytest tests/test_hostile_*.py --hypothesis-show-statistics`.
"""

import io
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import in_process, one_line_error
from hostile import PARAMS_TEXT, USES_CAPSYS, assert_one_line, csv_text, files_in
from hypothesis import event, given, settings
from hypothesis import strategies as st

from toxic_tagger import COLUMNS, ID_COLUMN, LABELS, TEXT_COLUMN
from toxic_tagger.atomic_files import write_csv
from toxic_tagger.config import FetchParams
from toxic_tagger.data.comments_csv import read_split
from toxic_tagger.data.fetch import fetch_comments
from toxic_tagger.errors import InputError

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
