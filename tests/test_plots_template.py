"""The offline page template for `dvc plots show` (plots/template/): self-contained, used by DVC.

Fast tests read the committed template and .dvc/config; slow ones run the real `dvc plots
show` in a temporary git + DVC repository and draw its page in headless Chromium (skipped
when chromium is not installed, except in CI, where .ci/run installs it and a missing one fails).
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, missing_tool, run

TEMPLATE = ROOT / "plots" / "template" / "index.html"
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
# A <script src> or <link href> that leaves the machine: http://, https:// or protocol-relative //.
EXTERNAL_LOAD = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)
CDN_HOSTS = ("cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com", "cdn.plot.ly")
# What each UMD build assigns on window, as it appears in the minified code.
GLOBALS = {"vega": ".vega={}", "vega-lite": ".vegaLite={}", "vega-embed": ".vegaEmbed="}

PLOT_CSV = "tokens,train\n0,0.125\n16,0.4375\n32,0.3125\n64,0.0625\n128,0.0625\n"
PLOT_YAML = """plots:
  - lengths:
      title: Tiny token lengths
      template: linear
      x: tokens
      y:
        lengths.csv: train
"""


def load_build_module():
    """plots/template/build.py, whose BUNDLES pin each inlined file's version and sha256."""
    spec = importlib.util.spec_from_file_location("plots_template_build", ROOT / "plots" / "template" / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


BUNDLES = load_build_module().BUNDLES


def assert_inlines_pinned_libraries(html: str) -> None:
    """The first inline scripts are exactly the pinned vega, vega-lite and vega-embed files, in order."""
    scripts = INLINE_SCRIPT.findall(html)
    assert len(scripts) >= len(BUNDLES)
    for bundle, code in zip(BUNDLES, scripts):
        assert hashlib.sha256(code.encode("utf-8")).hexdigest() == bundle.sha256, bundle.spec
        assert f'"{bundle.version}"' in code, f"{bundle.spec}: version string missing"
        assert GLOBALS[bundle.package] in code, f"{bundle.spec}: does not define its window global"
        assert f"{bundle.spec} {bundle.path}" in html, f"{bundle.spec}: banner comment missing"


def assert_loads_nothing_external(html: str) -> None:
    assert not EXTERNAL_LOAD.search(html)
    assert 'src="http' not in html and "src='http" not in html
    for host in CDN_HOSTS:
        assert host not in html, host


def test_template_has_dvc_plot_placeholder_but_no_scripts_placeholder():
    html = TEMPLATE.read_text(encoding="utf-8")
    assert html.count("{plot_divs}") == 1
    # DVC writes its CDN <script src> tags into {scripts}; leaving it out is what keeps them out.
    assert "{scripts}" not in html
    assert '<meta charset="utf-8">' in html  # the bundles hold non-ASCII text


def test_template_inlines_the_pinned_libraries():
    html = TEMPLATE.read_text(encoding="utf-8")
    assert [bundle.package for bundle in BUNDLES] == ["vega", "vega-lite", "vega-embed"]
    assert len(INLINE_SCRIPT.findall(html)) == len(BUNDLES)
    assert_inlines_pinned_libraries(html)


def test_template_loads_nothing_from_the_network():
    assert_loads_nothing_external(TEMPLATE.read_text(encoding="utf-8"))


def configured_template() -> str:
    """`plots.html_template` of this repository's .dvc/config, read as DVC reads it (configobj)."""
    from configobj import ConfigObj

    return ConfigObj(str(ROOT / ".dvc" / "config"))["plots"]["html_template"]


def test_repo_dvc_config_points_plots_at_the_template():
    # Relative `plots.html_template` values are resolved from .dvc/, not from the repo root.
    assert (ROOT / ".dvc" / configured_template()).resolve() == TEMPLATE


@pytest.fixture(scope="module")
def plots_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git + DVC repository with one tiny CSV plot and this project's template and config value."""
    repo = tmp_path_factory.mktemp("plots") / "repo"
    (repo / "plots" / "template").mkdir(parents=True)
    shutil.copy2(TEMPLATE, repo / "plots" / "template" / "index.html")
    (repo / "lengths.csv").write_text(PLOT_CSV)
    (repo / "dvc.yaml").write_text(PLOT_YAML)
    run(["git", "init", "-q"], repo)
    run(["dvc", "init", "-q"], repo)
    run(["dvc", "config", "core.analytics", "false"], repo)
    run(["dvc", "config", "plots.html_template", configured_template()], repo)
    return repo


def assert_is_offline_plot_page(html: str) -> None:
    assert "{plot_divs}" not in html
    assert_inlines_pinned_libraries(html)
    assert_loads_nothing_external(html)
    assert "vegaEmbed('#lengths', spec);" in html
    assert "https://vega.github.io/schema/vega-lite/v5" in html  # $schema: an id, never fetched
    assert "Tiny token lengths" in html
    for value in ("0.4375", "0.3125"):  # the CSV's rows travel inside the spec
        assert value in html


@pytest.mark.slow
def test_dvc_plots_show_with_explicit_flag_writes_an_offline_page(plots_repo: Path):
    out = plots_repo / "flag_out"
    run(["dvc", "plots", "show", "--html-template", str(TEMPLATE), "-o", str(out)], plots_repo)
    assert_is_offline_plot_page((out / "index.html").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_dvc_plots_show_uses_the_configured_template_by_default(plots_repo: Path):
    out = plots_repo / "config_out"
    run(["dvc", "plots", "show", "-o", str(out)], plots_repo)
    assert_is_offline_plot_page((out / "index.html").read_text(encoding="utf-8"))


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
def test_headless_chromium_draws_the_chart_offline(plots_repo: Path, tmp_path: Path):
    if CHROMIUM is None:
        missing_tool("chromium not installed (apt-get install -y chromium); "
                     "the page content is still checked by the dvc plots show tests above")
    try:
        from PIL import Image as image_module
    except ImportError:
        missing_tool("Pillow is needed to read the screenshot (pip install pillow)")
    out, screenshot = tmp_path / "page", tmp_path / "page.png"
    run(["dvc", "plots", "show", "-o", str(out)], plots_repo)
    # No network at all (every host resolves to nothing), so only inlined code can draw.
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--host-resolver-rules=MAP * ~NOTFOUND",
                    "--virtual-time-budget=5000", "--window-size=800,600", f"--screenshot={screenshot}",
                    (out / "index.html").as_uri()], capture_output=True, timeout=120, check=True)
    rgb = image_module.open(screenshot).convert("RGB").tobytes()
    pixels = list(zip(rgb[0::3], rgb[1::3], rgb[2::3]))
    inked = sum(1 for r, g, b in pixels if min(r, g, b) < 200)
    coloured = sum(1 for r, g, b in pixels if max(r, g, b) - min(r, g, b) > 60)  # the line, not grey text
    assert inked > 2000, f"page looks blank: {inked} non-white pixels"
    assert coloured > 100, f"no coloured marks drawn: {coloured} coloured pixels"
