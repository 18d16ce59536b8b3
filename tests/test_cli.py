"""`toxic-tagger predict`: JSON lines for arguments, CSV in/out, one-line errors.

The model is `untrained_export` (the tiny random BERT exported without training): these
tests check the command, not what a model learned."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FIXTURE_CSV, ROOT, in_process, one_line_error

from toxic_tagger import LABELS


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """The real command, in a subprocess (entry point, exit status, streams)."""
    return subprocess.run([sys.executable, "-m", "toxic_tagger.cli", *args], input=stdin,
                          capture_output=True, text=True)


def test_predict_arguments_as_json_lines(untrained_export):
    from toxic_tagger.model.export import load_exported
    from toxic_tagger.predict.torch_runtime import predict_exported

    texts = ["you idiot", "thanks for the fix", "word " * 200]  # the last is past max_length (64)
    result = cli("predict", "--model", str(untrained_export), *texts)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in records] == texts
    # The same scores as the library computes in this process, and tags are the scores at or
    # above each tag's exported threshold.
    exported = load_exported(untrained_export)
    expected = predict_exported(exported, texts, 4096, progress=False)
    np.testing.assert_allclose([[r[label] for label in LABELS] for r in records], expected, atol=1e-5)
    for record, row in zip(records, expected):
        assert record["tags"] == [label for label, p, t in zip(LABELS, row, exported.thresholds) if p >= t]
    assert [r["truncated"] for r in records] == [False, False, True]


def test_predict_csv_keeps_ids_and_order(untrained_export, tmp_path, capsys):
    out = tmp_path / "tags.csv"
    code, _, err = in_process(capsys, "predict", "--model", str(untrained_export), "--input", str(FIXTURE_CSV),
                              "--output", str(out))
    assert code == 0, err
    assert err.strip().endswith(f"wrote 42 rows to {out}")
    scored = pd.read_csv(out, dtype={"id": str})
    assert scored["id"].tolist() == pd.read_csv(FIXTURE_CSV, dtype=str)["id"].tolist()
    # every input column is kept; the fixture's own labels as <tag>_input beside the scores
    assert list(scored.columns) == ["id", "comment_text", *(f"{label}_input" for label in LABELS), *LABELS, "tags",
                                     "truncated"]


def predict_with(capsys, model: Path, tmp_path: Path, runtime: str) -> pd.DataFrame:
    """`toxic-tagger predict` on the fixture CSV with `runtime`: the scored CSV it wrote."""
    out = tmp_path / f"{runtime}.csv"
    code, _, err = in_process(capsys, "predict", "--model", str(model), "--input", str(FIXTURE_CSV),
                              "--output", str(out), "--runtime", runtime, "--onnx-cache", str(tmp_path / "cache"))
    assert code == 0, err
    return pd.read_csv(out, dtype={"id": str})


def test_predict_onnxruntime_matches_torch(untrained_export, tmp_path, capsys):
    outputs = {runtime: predict_with(capsys, untrained_export, tmp_path, runtime) for runtime in ("torch", "onnxruntime")}
    assert list(tmp_path.joinpath("cache").glob("*.onnx"))  # the built graph is kept for the next call
    pd.testing.assert_frame_equal(outputs["torch"][list(LABELS)], outputs["onnxruntime"][list(LABELS)], atol=1e-4, rtol=0)


def test_predict_torch_bf16_is_close_to_torch(untrained_export, tmp_path, capsys):
    outputs = {runtime: predict_with(capsys, untrained_export, tmp_path, runtime) for runtime in ("torch", "torch-bf16")}
    torch_probs, bf16_probs = (outputs[r][list(LABELS)].to_numpy() for r in ("torch", "torch-bf16"))
    assert 0 < np.abs(torch_probs - bf16_probs).max() < 0.02  # bf16 did run, and stays close
    assert outputs["torch-bf16"]["id"].tolist() == outputs["torch"]["id"].tolist()


def test_predict_errors_are_one_line(untrained_export, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text\n1,hello\n")
    code, _, err = in_process(capsys, "predict", "--model", str(untrained_export), "--input", str(bad))
    assert code == 1
    assert err.strip() == f"error: {bad}: row 1, column 'comment_text': required column missing"
    missing = cli("predict", "--model", str(tmp_path / "nothing"), "hi")  # the real command's exit status
    assert missing.returncode == 1 and "not an exported toxic-tagger model" in missing.stderr


def test_table_prints_per_tag_rows(tmp_path, capsys):
    from toxic_tagger.evaluate.metrics import split_report

    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    labels = (rng.random((300, 6)) < 0.2).astype(int)
    probs = np.clip(labels * 0.2 + rng.random((300, 6)), 0, 1)
    report = {"test": split_report(labels, probs, np.full(6, 0.5), 10, seed=0)}
    path = tmp_path / "eval.json"
    path.write_text(json.dumps(report))
    code, out, err = in_process(capsys, "table", str(path))
    assert code == 0, err
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
            for line in out.splitlines() if line.startswith("| ") and not line.startswith("| tag ")}
    for j, label in enumerate(LABELS):  # each tag's row holds that tag's numbers, not a neighbour's
        auroc, *_, support = rows[label]
        assert float(auroc.split()[0]) == pytest.approx(roc_auc_score(labels[:, j], probs[:, j]), abs=5e-4)
        assert int(support) == labels[:, j].sum()
    code, _, err = in_process(capsys, "table", str(tmp_path / "none.json"))
    assert code == 1 and err.startswith("error: ")


def test_predict_never_replaces_a_file_silently(untrained_export, tmp_path, capsys):
    out = tmp_path / "tags.csv"
    out.write_text("the user's file\n")
    err = one_line_error(capsys, "predict", "--model", str(untrained_export), "--input", str(FIXTURE_CSV), "--output", str(out))
    assert err == f"error: {out}: already exists; pass --overwrite to replace it"
    assert out.read_text() == "the user's file\n"
    code, _, err = in_process(capsys, "predict", "--model", str(untrained_export), "--input", str(FIXTURE_CSV),
                              "--output", str(out), "--overwrite")
    assert code == 0, err
    assert list(pd.read_csv(out).columns)[-2:] == ["tags", "truncated"]
    own = tmp_path / "comments.csv"
    own.write_bytes(FIXTURE_CSV.read_bytes())
    err = one_line_error(capsys, "predict", "--model", str(untrained_export), "--input", str(own), "--output", str(own),
                         "--overwrite")
    assert "is the --input file" in err and own.read_bytes() == FIXTURE_CSV.read_bytes()
    assert "does not exist" in one_line_error(capsys, "predict", "--model", str(untrained_export), "hi",
                                              "--output", str(tmp_path / "no" / "tags.csv"))
    assert "is a folder" in one_line_error(capsys, "predict", "--model", str(untrained_export), "hi",
                                           "--output", str(tmp_path))
    assert "is a folder" in one_line_error(capsys, "predict", "--model", str(untrained_export), "hi",
                                           "--output", f"{tmp_path / 'new'}/")
    assert f"{out} is not a folder" in one_line_error(capsys, "predict", "--model", str(untrained_export), "hi",
                                                      "--output", str(out / "x.csv"))
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # like /dev/full or /dev/stdout: the rename would replace the node itself
    assert "is not a regular file" in one_line_error(capsys, "predict", "--model", str(untrained_export), "hi",
                                                     "--output", str(fifo), "--overwrite")
    assert fifo.exists() and not fifo.is_file()


def test_predict_input_errors_name_the_place(untrained_export, tmp_path, capsys):
    model = ("--model", str(untrained_export))
    assert "cannot read file" in one_line_error(capsys, "predict", *model, "--input", str(tmp_path / "gone.txt"))
    latin = tmp_path / "latin.txt"
    latin.write_bytes("fine\ncaf\xe9\n".encode("latin-1"))
    assert one_line_error(capsys, "predict", *model, "--input", str(latin)).startswith(
        f"error: {latin}: line 2: not valid UTF-8")
    blank = tmp_path / "blank.txt"
    blank.write_text("\n  \n")
    assert "every line is blank" in one_line_error(capsys, "predict", *model, "--input", str(blank))
    header = tmp_path / "header.csv"
    header.write_text("id,comment_text\n")
    assert one_line_error(capsys, "predict", *model, "--input", str(header)) == (
        f"error: {header}: no comment rows after the header")
    empty = tmp_path / "empty.csv"
    empty.write_text('id,comment_text\n1,hi\n2,"  "\n')
    assert one_line_error(capsys, "predict", *model, "--input", str(empty)) == (
        f"error: {empty}: row 3, column 'comment_text': empty comment")
    commas = tmp_path / "commas.csv"
    commas.write_text("id,comment_text\n1,hi, there\n")  # pandas alone would tag " there"
    assert "row 2: 3 fields but the header has 2" in one_line_error(capsys, "predict", *model, "--input", str(commas))
    result = cli("predict", *model, "--input", "-", stdin="")  # empty stdin: one line, no traceback
    assert result.returncode == 1 and result.stderr.startswith("error: <stdin>: ") and "Traceback" not in result.stderr


def test_incomplete_or_broken_model_folders_stop_with_one_line(untrained_export, tmp_path, capsys):
    import shutil

    cases = {"tokenizer.json": "missing tokenizer.json", "model.safetensors": "missing model.safetensors"}
    for name, expected in cases.items():
        broken = tmp_path / f"no-{name}"
        shutil.copytree(untrained_export, broken)
        (broken / name).unlink()
        assert expected in one_line_error(capsys, "predict", "--model", str(broken), "hi")
    truncated = tmp_path / "truncated"
    shutil.copytree(untrained_export, truncated)
    (truncated / "model.safetensors").write_bytes((untrained_export / "model.safetensors").read_bytes()[:100])
    assert "sha256 differs from the one recorded" in one_line_error(capsys, "predict", "--model", str(truncated), "hi")
    record = json.loads((truncated / "toxic_tagger.json").read_text())
    del record["integrity"]  # an export from before the record: transformers' own check still speaks
    (truncated / "toxic_tagger.json").write_text(json.dumps(record))
    assert "cannot load the exported model" in one_line_error(capsys, "predict", "--model", str(truncated), "hi")
    meta = tmp_path / "meta"
    shutil.copytree(untrained_export, meta)
    content = json.loads((meta / "toxic_tagger.json").read_text())
    del content["thresholds"]["threat"]
    (meta / "toxic_tagger.json").write_text(json.dumps(content))
    assert "no threshold for threat" in one_line_error(capsys, "predict", "--model", str(meta), "hi")
    content["thresholds"]["threat"] = "abc"
    (meta / "toxic_tagger.json").write_text(json.dumps(content))
    assert "thresholds.threat must be a number in [0, 1], got 'abc'" in one_line_error(capsys, "predict", "--model", str(meta), "hi")
    (meta / "toxic_tagger.json").write_text("{not json")
    assert "cannot read" in one_line_error(capsys, "predict", "--model", str(meta), "hi")


def test_table_of_another_json_layout_is_one_line(tmp_path, capsys):
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"test": {"rows": 10}}))
    assert "not in metrics/eval.json's layout" in one_line_error(capsys, "table", str(split))
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    assert "no 'test' entry" in one_line_error(capsys, "table", str(listed))


def test_check_params_passes_the_repository_file_and_names_a_bad_value(tmp_path, capsys):
    code, out, err = in_process(capsys, "check-params", str(ROOT / "params.yaml"))
    assert code == 0 and out.strip().endswith("params.yaml: ok"), err
    bad = tmp_path / "params.yaml"
    bad.write_text((ROOT / "params.yaml").read_text().replace("  epochs: 2", "  epochs: 0", 1))
    assert one_line_error(capsys, "check-params", str(bad)).endswith("train.epochs must be >= 1, got 0")
