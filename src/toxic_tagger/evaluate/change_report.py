"""Markdown report of what a change did to params and metrics, for pull-request comments.

Inputs: a git + DVC repository (`--repo`, default the current directory), a base revision
(`--base`, e.g. `main` or `origin/main`) and optionally a folder of rendered plots
(`--plots-dir`, e.g. what `dvc plots diff --out` wrote) plus a URL where they are published
(`--plots-url`, e.g. the CI run holding them as an artifact).
Output: Markdown on stdout, or written atomically to `--output` (by the rules of predict's
`--output`: its folder must exist, an existing file is replaced only with `--overwrite`;
the CLI checks them before anything runs). It holds the tables of
`dvc metrics diff <base> --md` and `dvc params diff <base> --md`: base revision versus the
workspace, so run it after `dvc repro` / `dvc exp run`.

    toxic-tagger report --base main
    toxic-tagger report --base origin/main --plots-dir dvc_plots --output report.md
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from toxic_tagger.atomic_files import atomic_path
from toxic_tagger.errors import ToxicTaggerError

# Embedded with ![]() so GitHub renders them inline; anything else (HTML) gets a plain link.
IMAGE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".gif")
PLOT_SUFFIXES = (*IMAGE_SUFFIXES, ".html")


def write_report(repo: Path, base: str, output: Path | None = None, plots_dir: Path | None = None,
                 plots_url: str | None = None) -> None:
    """Build the report for the repository holding `repo` against `base`; print it, or write it
    atomically to `output`."""
    root = dvc_root(repo)
    markdown = build_report(root, base, resolve_rev(root, base), plots_dir, plots_url, output)
    if output is None:
        sys.stdout.write(markdown)
        return
    try:
        with atomic_path(output) as tmp:
            tmp.write_text(markdown, encoding="utf-8")
    except OSError as exc:  # a full disk, a name too long, ...: nothing is left behind
        raise ToxicTaggerError(f"{output}: cannot write: {exc.strerror or exc}") from exc


def dvc_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding `.dvc/`; that is where DVC must run."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".dvc").is_dir():
            return folder
    raise ToxicTaggerError(f"report: {start} is not inside a DVC repository (no .dvc/ folder found)")


def resolve_rev(root: Path, rev: str) -> str:
    """The commit sha `rev` names in the repository at `root`."""
    if _git(root, "rev-parse", "--is-inside-work-tree").returncode != 0:
        raise ToxicTaggerError(f"report: {root} is not a git repository, so there is no base to compare with")
    found = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if found.returncode != 0:
        raise ToxicTaggerError(f"report: base revision {rev!r} not found in {root} (fetch it first?)")
    return found.stdout.strip()


def build_report(root: Path, base: str, base_sha: str, plots_dir: Path | None,
                 plots_url: str | None, output: Path | None) -> str:
    """The whole Markdown document: title, what was compared, params, metrics, plots."""
    head = _git(root, "rev-parse", "--short", "HEAD").stdout.strip() or "no commit yet"
    sections = [
        f"## toxic-tagger: params and metrics versus `{base}`",
        f"Base `{base}` ({base_sha[:7]}) versus the workspace (HEAD {head}); only changed values are listed.",
        "### Params",  # first: usually a line or two, the cause of the metric rows below
        dvc_diff(root, "params", base) or "No param changed.",
        "### Metrics",
        dvc_diff(root, "metrics", base) or "No metric changed.",
    ]
    if plots_dir is not None or plots_url:
        sections += ["### Plots", plots_markdown(plots_dir, plots_url, output)]
    return "\n\n".join(sections) + "\n"


def dvc_diff(root: Path, kind: str, base: str) -> str:
    """`dvc <kind> diff <base> --md` run in `root`: a GFM table, or "" when nothing changed."""
    # `python -m dvc` of this interpreter: the venv's DVC even when dvc is not on PATH.
    cmd = [sys.executable, "-m", "dvc", kind, "diff", base, "--md"]
    result = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()] or ["no message"]
        raise ToxicTaggerError(f"report: `dvc {kind} diff {base}` failed in {root}: {lines[-1].strip()}")
    table = result.stdout.strip()
    # With nothing changed DVC still prints the header and separator rows: treat that as empty.
    rows = [line for line in table.splitlines() if line.startswith("|")]
    return table if len(rows) > 2 else ""


def plots_markdown(plots_dir: Path | None, plots_url: str | None, output: Path | None) -> str:
    """Images embedded and HTML linked, relative to where the report is written."""
    lines = [f"Rendered plots: [{plots_url}]({plots_url})"] if plots_url else []
    if plots_dir is not None:
        if not plots_dir.is_dir():
            raise ToxicTaggerError(f"report: plots folder {plots_dir} does not exist")
        found = sorted(p for p in plots_dir.rglob("*") if p.is_file() and p.suffix.lower() in PLOT_SUFFIXES)
        # Links must resolve from the report's own folder (stdout: the current directory).
        anchor = output.resolve().parent if output else Path.cwd()
        for path in found:
            link = Path(os.path.relpath(path.resolve(), anchor)).as_posix()
            name = path.relative_to(plots_dir).as_posix()
            lines.append(f"![{name}]({link})" if path.suffix.lower() in IMAGE_SUFFIXES else f"- [{name}]({link})")
        if not found:
            lines.append(f"No image or HTML files in `{plots_dir}`.")
    return "\n".join(lines)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise ToxicTaggerError("report: git is not installed (needed to read the base revision)") from exc
