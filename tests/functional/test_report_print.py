"""The report printed for real: headless Chromium prints the HTML to PDF on A4 and on
Letter, pdftoppm turns the pages into images, and the pages are checked: the paper size,
a sane page count, every chart whole on one page, nothing drawn into the margins, and no
request made by the page. (WeasyPrint's PDF is test_report.py's; this is the browser's.)
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from app.store import stats
from tests.support.cli import hiphook
from tests.support.report_fixture import CHROMIUM, build_log, page_requests, print_pdf

TOOLS = (CHROMIUM, shutil.which("pdftoppm"), shutil.which("pdftotext"), shutil.which("pdfinfo"))
if not all(t and Path(t).exists() for t in TOOLS):
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI must have Chromium and poppler-utils (.ci/run installs them)")
    pytest.skip("needs /usr/bin/chromium and poppler-utils", allow_module_level=True)

PAPER = {"A4": (595.3, 841.9), "letter": (612.0, 792.0)}  # points


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("print")
    log = work / "log.db"
    build_log(log, stats.today_in("UTC"))
    out = work / "report.html"
    res = hiphook("report", "--weeks", "12", "-o", str(out), "--db", str(log))
    assert res.returncode == 0, res.stderr
    return out


def chart_texts(page: str) -> list[list[str]]:
    """The words each inline chart carries (matplotlib keeps SVG text as text)."""
    charts = []
    for svg in re.findall(r"<svg.*?</svg>", page, re.S):
        words = [
            re.sub(r"\s+", "", html.unescape(re.sub("<[^>]+>", "", t)))
            for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S)
        ]
        charts.append([w for w in words if w])
    return charts


def ink_in_margin(png: Path, margin_px: int) -> dict[str, int]:
    """Dark pixels in each outer band of a page image (the page margin is 15 mm)."""
    from PIL import Image

    img = Image.open(png).convert("L")
    w, h = img.size
    bands = {
        "left": (0, 0, margin_px, h),
        "right": (w - margin_px, 0, w, h),
        "bottom": (0, h - margin_px, w, h),
    }
    return {side: sum(img.crop(box).histogram()[:200]) for side, box in bands.items()}


@pytest.mark.parametrize("paper", ["A4", "letter"])
def test_report_prints_whole_on_a4_and_letter(report: Path, paper: str, tmp_path: Path) -> None:
    page = report.read_text(encoding="utf-8")
    sized = tmp_path / f"report-{paper}.html"
    sized.write_text(
        page.replace("</head>", f"<style>@page {{ size: {paper}; }}</style></head>", 1),
        encoding="utf-8",
    )
    pdf = tmp_path / f"report-{paper}.pdf"
    net_log = print_pdf(sized, pdf, tmp_path)
    assert page_requests(net_log) == []

    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))  # type: ignore[union-attr]
    w, h = (float(x) for x in re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info.stdout).groups())  # type: ignore[union-attr]
    assert (round(w), round(h)) == tuple(round(x) for x in PAPER[paper])
    assert 2 <= pages <= 8, pages  # 12 weeks: a few pages, not one squeezed nor dozens

    # Every chart on one page: all of its words are found on a single page's text.
    texts = []
    for n in range(1, pages + 1):
        out = subprocess.run(
            ["pdftotext", "-raw", "-f", str(n), "-l", str(n), str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        texts.append(re.sub(r"\s+", "", out))
    charts = chart_texts(page)
    assert len(charts) >= 4
    for words in charts:
        on = [n + 1 for n, t in enumerate(texts) if all(w in t for w in words)]
        assert on, f"a chart is cut across pages (its words: {words[:6]}…)"
    assert "notmedicaladvice" in texts[-1]

    # Nothing runs into the margins (a chart or table too wide, or cut at the bottom).
    dpi = 40
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(tmp_path / paper)], check=True
    )
    pngs = sorted(tmp_path.glob(f"{paper}-*.png"))
    assert len(pngs) == pages
    margin_px = int(12 / 25.4 * dpi)  # 12 of the page's 15 mm margin
    for png in pngs:
        assert ink_in_margin(png, margin_px) == {"left": 0, "right": 0, "bottom": 0}, png.name


def test_the_network_check_sees_a_page_that_loads_something(tmp_path: Path) -> None:
    """The check above can fail: a page with an outside image and font is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<html><head><link rel="stylesheet" href="https://fonts.example.invalid/a.css">'
        '</head><body><img src="http://example.invalid/x.png"><p>hi</p></body></html>'
    )
    net_log = print_pdf(bad, tmp_path / "bad.pdf", tmp_path)
    assert sorted(page_requests(net_log)) == [
        "http://example.invalid/x.png",
        "https://fonts.example.invalid/a.css",
    ]
