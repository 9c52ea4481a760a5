"""The monitoring report opens in a real browser: headless Chromium (Debian package ``chromium``) loads the
self-contained page with networking disabled, without console errors, and its tables and charts are in
the rendered DOM; a screenshot is kept as a test artefact in build/test-artifacts/ (or
$IMPACTKIT_TEST_ARTIFACTS). The Markdown twin carries the same sections."""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

import impactkit as ik
from impactkit.monitoring_report import demo

pytest.importorskip("matplotlib")
ROOT = pathlib.Path(__file__).resolve().parents[2]
ARTIFACTS = pathlib.Path(os.environ.get("IMPACTKIT_TEST_ARTIFACTS", ROOT / "build" / "test-artifacts"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return demo(tmp_path_factory.mktemp("report"))


def test_report_is_self_contained_with_every_section(report):
    html_path, md_path = report
    html = html_path.read_text(encoding="utf-8")
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "the page must not load anything from the network"
    assert "<script" not in html
    for needle in ('id="indicator-table"', 'id="progress-chart"', 'id="trend-chart"', 'id="methods"', "Disaggregation",
                   "Retention of baseline households", "Holm", "complex survey design", "border-left:6px solid"):
        assert needle in html, needle
    assert html.count("data:image/png;base64,") == 2
    md = md_path.read_text(encoding="utf-8")
    for head in ("## Indicators (latest period)", "## Disaggregation", "## Panel retention and attrition", "## Methods"):
        assert head in md
    assert "| O1.1 |" in md


@pytest.mark.skipif(CHROMIUM is None, reason="chromium (Debian package) is not installed")
def test_report_loads_in_headless_chromium(report, tmp_path):
    html_path, _ = report
    url = html_path.resolve().as_uri()
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", "--enable-logging=stderr", "--v=0",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(flags + ["--dump-dom", url], capture_output=True, text=True, timeout=180)
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [l for l in dom.stderr.splitlines() if "CONSOLE" in l or "Uncaught" in l]
    assert not console, console
    rendered = dom.stdout
    assert rendered.count("<table") >= 4  # indicators, disaggregation, retention, attrition tests
    assert rendered.count("<img") == 2 and "Programme monitoring report" in rendered
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "monitoring_report.png"
    run = subprocess.run(flags + ["--window-size=1200,2400", f"--screenshot={shot}", url], capture_output=True, text=True,
                         timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000  # a rendered page, not a blank one
