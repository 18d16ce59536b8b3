"""fetch: sample determinism, local sources, sha256 checks, path resolution."""

import shutil

import pytest
from conftest import FIXTURE_CSV

from toxic_tagger.config import FetchParams
from toxic_tagger.checksums import file_sha256 as sha256_file
from toxic_tagger.data.fetch import SAMPLE, fetch_comments, tag_counts
from toxic_tagger.errors import InputError
from toxic_tagger.paths import original_root, resolve_user_path


def params(source: str, sha256: str | None = None, rows: int = 300) -> FetchParams:
    return FetchParams(source=source, sha256=sha256, sample_rows=rows)


def test_sample_is_deterministic_and_seed_dependent(tmp_path):
    a = fetch_comments(params(SAMPLE), seed=1, root=tmp_path)
    b = fetch_comments(params(SAMPLE), seed=1, root=tmp_path)
    c = fetch_comments(params(SAMPLE), seed=2, root=tmp_path)
    assert a.sha256 == b.sha256 and a.table.equals(b.table)
    assert a.sha256 != c.sha256


def test_local_relative_path_resolves_against_root(tmp_path):
    (tmp_path / "in").mkdir()
    shutil.copy(FIXTURE_CSV, tmp_path / "in" / "c.csv")
    fetched = fetch_comments(params("in/c.csv"), seed=0, root=tmp_path)
    assert len(fetched.table) == 42
    assert fetched.sha256 == sha256_file(FIXTURE_CSV)
    assert tag_counts(fetched.table)["threat"] == 4


def test_sha256_mismatch_is_an_error(tmp_path):
    shutil.copy(FIXTURE_CSV, tmp_path / "c.csv")
    with pytest.raises(InputError, match="sha256 mismatch: expected 0+ .* got [0-9a-f]{64}"):
        fetch_comments(params("c.csv", sha256="0" * 64), seed=0, root=tmp_path)
    ok = fetch_comments(params("c.csv", sha256=sha256_file(FIXTURE_CSV).upper()), seed=0, root=tmp_path)
    assert len(ok.table) == 42


def test_sha256_is_checked_for_the_sample_too(tmp_path):
    expected = fetch_comments(params(SAMPLE), seed=1, root=tmp_path).sha256
    assert fetch_comments(params(SAMPLE, sha256=expected), seed=1, root=tmp_path).sha256 == expected
    with pytest.raises(InputError, match=r"the generated sample \(300 rows, seed 2\): sha256 mismatch"):
        fetch_comments(params(SAMPLE, sha256=expected), seed=2, root=tmp_path)


def test_missing_source_is_named(tmp_path):
    with pytest.raises(InputError, match="fetch.source: no such file .*nope.csv"):
        fetch_comments(params("nope.csv"), seed=0, root=tmp_path)


def test_experiment_copy_resolves_to_original_repo(tmp_path):
    repo = tmp_path / "repo"
    copy = repo / ".dvc" / "tmp" / "exps" / "tmpabc123"
    copy.mkdir(parents=True)
    shared = tmp_path / "shared"
    shared.mkdir()
    shutil.copy(FIXTURE_CSV, shared / "c.csv")
    assert original_root(copy) == repo
    assert original_root(repo) is None
    assert resolve_user_path("../shared/c.csv", copy) == (shared / "c.csv").resolve()
