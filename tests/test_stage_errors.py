"""Stage scripts on bad input: one line on stderr naming file/row/column, exit 1, no outputs."""

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURE_CSV, ROOT, shrunk_params_dict

HEADER = "id,comment_text,toxic,severe_toxic,obscene,threat,insult,identity_hate\n"

CASES = {
    "missing_column": (HEADER.replace(",threat", "") + "a,x,0,0,0,0,0\n", "row 1, column 'threat'"),
    "empty_file": ("", "file is empty"),
    "empty_comment_text": (HEADER + "a,hello,0,0,0,0,0,0\nb,,0,0,0,0,0,0\n", "row 3, column 'comment_text'"),
    "label_not_binary": (HEADER + "a,hello,0,0,0,0,0,0\nb,bye,0,0,0,yes,0,0\n", "row 3, column 'threat'"),
    "duplicate_ids": (HEADER + "a,hello,0,0,0,0,0,0\na,bye,0,0,0,0,0,0\n", "row 3, column 'id'"),
    "non_utf8": (HEADER.encode() + b"a,caf\xe9,0,0,0,0,0,0\n", "row 2, column 'comment_text'"),
}


def run_fetch(repo: Path, source: str, **fetch) -> subprocess.CompletedProcess:
    params = shrunk_params_dict(Path("unused"))
    params["fetch"].update(source=source, **fetch)
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    return run_script(repo, "fetch", "--out", "data/raw.csv", "--meta", "data/raw.meta.json")


def run_script(repo: Path, stage: str, *args: str) -> subprocess.CompletedProcess:
    (repo / "dvc.yaml").touch()  # marks the repository root for path resolution
    return subprocess.run([sys.executable, str(ROOT / "stages" / f"{stage}.py"), *args],
                          cwd=repo, capture_output=True, text=True)


def assert_one_line_failure(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def assert_no_outputs(repo: Path) -> None:
    data = repo / "data"
    assert not data.exists() or not any(data.iterdir()), list(data.iterdir())


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_source_file(tmp_path, case):
    content, where = CASES[case]
    path = tmp_path / "bad.csv"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    result = run_fetch(tmp_path, "bad.csv")
    assert_one_line_failure(result, "bad.csv", where)
    assert_no_outputs(tmp_path)


def test_unreadable_file(tmp_path):
    (tmp_path / "broken.csv.gz").write_bytes(b"\x1f\x8b\x08 truncated")
    result = run_fetch(tmp_path, "broken.csv.gz")
    assert_one_line_failure(result, "broken.csv.gz", "cannot read compressed file")
    assert_no_outputs(tmp_path)


def test_sha256_mismatch(tmp_path):
    shutil.copy(FIXTURE_CSV, tmp_path / "c.csv")
    result = run_fetch(tmp_path, "c.csv", sha256="ab" * 32)
    assert_one_line_failure(result, "c.csv", "sha256 mismatch", "ab" * 32)
    assert_no_outputs(tmp_path)


def test_misspelled_params_key(tmp_path):
    (tmp_path / "c.csv.gz").write_bytes(gzip.compress(FIXTURE_CSV.read_bytes()))
    params = shrunk_params_dict(Path("unused"))
    params["fetch"]["sourc"] = params["fetch"].pop("source")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    result = run_script(tmp_path, "fetch", "--out", "data/raw.csv", "--meta", "data/raw.meta.json")
    assert_one_line_failure(result, "params.yaml", "line ", "column 3", "unknown key 'fetch.sourc' in fetch", "did you mean 'source'")
    assert_no_outputs(tmp_path)


def test_good_source_writes_both_outputs(tmp_path):
    shutil.copy(FIXTURE_CSV, tmp_path / "c.csv")
    result = run_fetch(tmp_path, "c.csv")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["raw.csv", "raw.meta.json"]
