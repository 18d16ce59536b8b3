"""`toxic-tagger predict`: JSON lines for arguments, CSV in/out, one-line errors."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from toxic_tagger import LABELS
from toxic_tagger.cli import main

from conftest import FIXTURE_CSV


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """The real command, in a subprocess (entry point, exit status, streams)."""
    return subprocess.run([sys.executable, "-m", "toxic_tagger.cli", *args], input=stdin,
                          capture_output=True, text=True)


def in_process(capsys, *args: str) -> tuple[int, str, str]:
    """toxic_tagger.cli.main in this process (saves the ~10 s import of a fresh interpreter):
    (exit status, stdout, stderr)."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_predict_arguments_as_json_lines(tiny_export):
    paths, _, _ = tiny_export
    result = cli("predict", "--model", str(paths.model), "you idiot", "thanks for the fix")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in records] == ["you idiot", "thanks for the fix"]
    assert all(0.0 <= r[label] <= 1.0 for r in records for label in LABELS)
    assert all(set(r["tags"]) <= set(LABELS) for r in records)


def test_predict_csv_keeps_ids_and_order(tiny_export, tmp_path, capsys):
    paths, _, _ = tiny_export
    out = tmp_path / "tags.csv"
    code, _, err = in_process(capsys, "predict", "--model", str(paths.model), "--input", str(FIXTURE_CSV),
                              "--output", str(out))
    assert code == 0, err
    scored = pd.read_csv(out, dtype={"id": str})
    assert scored["id"].tolist() == pd.read_csv(FIXTURE_CSV, dtype=str)["id"].tolist()
    assert list(scored.columns) == ["id", "comment_text", *LABELS, "tags"]


def predict_with(capsys, model: Path, tmp_path: Path, runtime: str) -> pd.DataFrame:
    """`toxic-tagger predict` on the fixture CSV with `runtime`: the scored CSV it wrote."""
    out = tmp_path / f"{runtime}.csv"
    code, _, err = in_process(capsys, "predict", "--model", str(model), "--input", str(FIXTURE_CSV),
                              "--output", str(out), "--runtime", runtime, "--onnx-cache", str(tmp_path / "cache"))
    assert code == 0, err
    return pd.read_csv(out, dtype={"id": str})


def test_predict_onnxruntime_matches_torch(tiny_export, tmp_path, capsys):
    paths, _, _ = tiny_export
    outputs = {runtime: predict_with(capsys, paths.model, tmp_path, runtime) for runtime in ("torch", "onnxruntime")}
    assert list(tmp_path.joinpath("cache").glob("*.onnx"))  # the built graph is kept for the next call
    pd.testing.assert_frame_equal(outputs["torch"][list(LABELS)], outputs["onnxruntime"][list(LABELS)], atol=1e-4, rtol=0)


def test_predict_torch_bf16_is_close_to_torch(tiny_export, tmp_path, capsys):
    paths, _, _ = tiny_export
    outputs = {runtime: predict_with(capsys, paths.model, tmp_path, runtime) for runtime in ("torch", "torch-bf16")}
    torch_probs, bf16_probs = (outputs[r][list(LABELS)].to_numpy() for r in ("torch", "torch-bf16"))
    assert 0 < np.abs(torch_probs - bf16_probs).max() < 0.02  # bf16 did run, and stays close
    assert outputs["torch-bf16"]["id"].tolist() == outputs["torch"]["id"].tolist()


def test_predict_errors_are_one_line(tiny_export, tmp_path, capsys):
    paths, _, _ = tiny_export
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text\n1,hello\n")
    code, _, err = in_process(capsys, "predict", "--model", str(paths.model), "--input", str(bad))
    assert code == 1
    assert err.strip() == f"error: {bad}: row 1, column 'comment_text': required column missing"
    missing = cli("predict", "--model", str(tmp_path / "nothing"), "hi")  # the real command's exit status
    assert missing.returncode == 1 and "not an exported toxic-tagger model" in missing.stderr


def test_table_prints_per_tag_rows(tmp_path, capsys):
    import numpy as np

    from toxic_tagger.metrics import split_report

    rng = np.random.default_rng(0)
    labels = (rng.random((300, 6)) < 0.2).astype(int)
    report = {"test": split_report(labels, rng.random((300, 6)), np.full(6, 0.5), 10, seed=0)}
    path = tmp_path / "eval.json"
    path.write_text(json.dumps(report))
    code, out, err = in_process(capsys, "table", str(path))
    assert code == 0, err
    assert all(f"| {label} | " in out for label in LABELS)
    code, _, err = in_process(capsys, "table", str(tmp_path / "none.json"))
    assert code == 1 and err.startswith("error: ")
