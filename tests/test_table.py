"""Raw tables: every kind of bad input gives one line naming the file, row and column."""

import gzip
import io
import zipfile

import pandas as pd
import pytest
from conftest import FIXTURE_CSV

from toxic_tagger import COLUMNS, LABELS
from toxic_tagger.data.comments_csv import parse_comments, read_source_bytes, read_split
from toxic_tagger.errors import InputError

HEADER = ",".join(COLUMNS)


def parse(text: str | bytes):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_comments(data, "comments.csv")


def error_of(text: str | bytes) -> str:
    with pytest.raises(InputError) as err:
        parse(text)
    message = str(err.value)
    assert message.startswith("comments.csv: ") and "\n" not in message
    return message


def test_fixture_parses_with_dirty_ids_kept_as_text():
    frame = read_split(FIXTURE_CSV)
    assert len(frame) == 42
    assert "2.49153E+14" in set(frame["id"])
    assert frame[list(LABELS)].dtypes.eq("int8").all()
    assert frame["comment_text"].str.contains("\n").any()


def test_missing_required_column():
    message = error_of("id,comment_text,toxic\n1,hello,0\n")
    assert "row 1, column 'severe_toxic'" in message and "required column missing" in message


def test_empty_file():
    assert "file is empty" in error_of("")
    assert "no data rows" in error_of(HEADER + "\n")


def test_empty_comment_text():
    message = error_of(f"{HEADER}\na,fine,0,0,0,0,0,0\nb,,0,0,0,0,0,0\n")
    assert "row 3, column 'comment_text'" in message


def test_blank_comment_text():
    message = error_of(f'{HEADER}\na,"   ",0,0,0,0,0,0\n')
    assert "row 2, column 'comment_text'" in message


def test_label_other_than_0_or_1():
    message = error_of(f"{HEADER}\na,x,0,0,0,0,0,0\nb,y,0,0,2,0,0,0\n")
    assert "row 3, column 'obscene'" in message and "'2'" in message


def test_duplicate_ids():
    message = error_of(f"{HEADER}\na,x,0,0,0,0,0,0\nb,y,0,0,0,0,0,0\na,z,0,0,0,0,0,0\n")
    assert "row 4, column 'id'" in message and "duplicate id 'a'" in message and "row 2" in message


def test_non_utf8_names_row_and_column():
    data = f"{HEADER}\na,ok,0,0,0,0,0,0\n".encode() + b'b,"multi\nline caf\xe9",0,0,0,0,0,0\n'
    message = error_of(data)
    assert "not valid UTF-8" in message and "row 3, column 'comment_text'" in message


def test_multiline_rows_are_numbered_by_record():
    text = f'{HEADER}\na,"one\ntwo\nthree",0,0,0,0,0,0\nb,x,0,0,0,0,0,7\n'
    assert "row 3, column 'identity_hate'" in error_of(text)


def test_unreadable_and_corrupt_files(tmp_path):
    with pytest.raises(InputError, match="cannot read file"):
        read_source_bytes(tmp_path)  # a directory
    broken = tmp_path / "x.csv.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(InputError, match="cannot read compressed file"):
        read_source_bytes(broken)


def test_gzip_and_zip_sources(tmp_path):
    raw = FIXTURE_CSV.read_bytes()
    gz = tmp_path / "train.csv.gz"
    gz.write_bytes(gzip.compress(raw))
    zipped = tmp_path / "jigsaw.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("train.csv", raw)
        archive.writestr("notes.txt", "ignored")
    expected = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    for path in (gz, zipped):
        data, _ = read_source_bytes(path)
        assert parse_comments(data, str(path))["id"].tolist() == expected["id"].tolist()


ROW = "0,0,0,0,0,0"


def test_an_unquoted_comma_on_every_row_is_caught_not_shifted():
    # pandas alone would take `id` as the index and shift every value one column left
    message = error_of(f"{HEADER}\n1,hi, there,{ROW}\n2,yo, you,{ROW}\n")
    assert message == ("comments.csv: row 2: 9 fields but the header has 8 "
                       "(an unquoted comma or quote in a comment?)")


def test_ragged_row_is_named_after_blank_lines_and_multiline_comments():
    # rows counted as the value checks count them: records, blank lines skipped (as pandas does)
    text = f'{HEADER}\n1,"two\nlines",{ROW}\n\n2,fine,{ROW}\n3,short,0,0\n'
    assert error_of(text).startswith("comments.csv: row 4: 4 fields but the header has 8")


def test_unclosed_quote_names_the_row_it_opens_on():
    text = f'{HEADER}\n1,fine,{ROW}\n2,"never closed,{ROW}\n3,more,{ROW}\n'
    assert error_of(text) == "comments.csv: row 3: a quoted field opened on this row is never closed"


def test_stray_quote_inside_a_field_is_read_as_pandas_reads_it():
    frame = parse(f'{HEADER}\n1,"quoted"tail,{ROW}\n2,ok,{ROW}\n')
    assert frame["comment_text"].tolist() == ["quotedtail", "ok"]


def test_a_stray_quote_does_not_hide_an_extra_comma():
    message = error_of(f'{HEADER}\n1,"Hi" there, friend,{ROW}\n2,"Yo" you, there,{ROW}\n')
    assert message.startswith("comments.csv: row 2: 9 fields but the header has 8")
