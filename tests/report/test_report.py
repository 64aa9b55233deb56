"""The offline report and chart exports are real, self-contained pictures and pages."""

from __future__ import annotations

import copy
import html as html_text
import re
import struct
import zlib

import pytest

from icetrack.figures import evaluation
from icetrack.report.build import build_report
from icetrack.warehouse import open_warehouse


@pytest.fixture(scope="module")
def evaluated(bundled_warehouse) -> dict:
    """The capacity model's rolling-origin evaluation of the bundled figures, computed once (seconds)."""
    with open_warehouse(bundled_warehouse, read_only=True) as wh:
        return evaluation.model_evaluation.evaluate(wh.ibis(), runs=evaluation.RUNS)


@pytest.fixture(autouse=True)
def evaluations(evaluated, monkeypatch) -> list:
    """Every report build here reads the same bundled figures: each gets the evaluation computed once for the
    module (a copy), and the calls are counted."""
    calls = []

    def precomputed(wh, **kwargs):
        calls.append(kwargs)
        return copy.deepcopy(evaluated)

    monkeypatch.setattr(evaluation, "evaluate", precomputed)
    return calls


def png_size_and_colours(data: bytes) -> tuple[int, int, int]:
    """Width, height and the number of distinct byte values in the decoded image (a blank image has ~1)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat = b"".join(data[i + 8:i + 8 + struct.unpack(">I", data[i:i + 4])[0]]
                    for i in [m.start() - 4 for m in re.finditer(b"IDAT", data)])
    raw = zlib.decompress(idat)
    return width, height, len(set(raw[: 1 << 20]))


def test_report_is_self_contained_with_chart_table_and_sources(icetrack, tmp_path):
    out = tmp_path / "report.html"
    icetrack("report", "--out", str(out))
    html = out.read_text(encoding="utf-8")
    assert "<svg" in html and "</svg>" in html  # the chart is inline
    assert "<script" not in html and "<link" not in html  # nothing to fetch: works offline
    assert not re.search(r'src="https?://', html)
    assert "7,314" in html and "1,179" in html and "3,486" in html
    assert "2025-01-27" in html and "2025-01-26" in html  # both readings of the peak day
    # every loaded edition (bundled references, with the FY2019 and FY2023 annual reports the estimate's share
    # rests on, and national workbook figures) is cited once
    assert len(re.findall(r'<li id="note-\d+">', html)) == len(set(re.findall(r'<li id="note-(\d+)">', html))) == 36
    assert "nbcconnecticut.com" in html and "Washington Post" in html
    assert "Definitions" in html and "not an arrest" in html
    # the claims section: the "just 1,100" claim with ICE's own 1,179 against it, citing the posts' edition
    claims = html[html.index("<h2>Claims checked</h2>"):html.index("ICE detention statistics")]
    row = claims[claims.index("just 1,100"):]
    row = row[:row.index("</tr>")]
    assert 'class="verdict-contradicted">contradicted' in row and "at least 1,179 (2025-01-27)" in row
    assert re.search(r'<sup><a href="#note-\d+">', row)
    # nine NBC-era claims and two running counts (every bundled claims file)
    assert claims.count('class="verdict-') == 11 and "becomes not checkable" in claims


def test_chart_png_and_svg_are_real_pictures(icetrack, tmp_path):
    png, svg = tmp_path / "c.png", tmp_path / "c.svg"
    icetrack("chart", "daily-vs-target", "--out", str(png))
    icetrack("chart", "daily-vs-target", "--out", str(svg))
    width, height, colours = png_size_and_colours(png.read_bytes())
    assert width > 600 and height > 300 and colours > 20
    text = svg.read_text(encoding="utf-8")
    assert text.startswith("<svg") and text.count("<path") > 9  # nine bars at least
    assert "1,179" in text and "target low end 1,200/day" in text


def test_chart_rejects_unknown_format(icetrack, tmp_path):
    result = icetrack("chart", "daily-vs-target", "--out", str(tmp_path / "c.gif"), expect=2)
    assert "use .png or .svg" in result.stderr


def test_report_marks_only_loaded_editions(warehouse_path):
    with open_warehouse(warehouse_path) as wh:
        html = build_report(wh)
        n_editions = len(wh.editions())
    assert len(re.findall(r'<li id="note-\d+">', html)) == n_editions


def test_report_capacity_section_and_what_it_lacks(warehouse_path, monkeypatch):
    from icetrack import model

    with open_warehouse(warehouse_path) as wh:
        html = build_report(wh)
        section = html[html.index("<h2>Capacity:"):html.index("<h2>Definitions</h2>")]
        assert "59,638" in section and "Back-test: calibrated on editions published by 2025-01-31" in section

        def no_beds(*args, **kwargs):
            raise ValueError("beds not given and the warehouse holds no funded_detention_beds figure")

        monkeypatch.setattr(model, "project", no_beds)
        html = build_report(wh)
    assert ("The capacity model is not shown: beds not given and the warehouse holds no funded_detention_beds "
            "figure.") in html


def _cells(row_html: str) -> list[str]:
    """The text of each cell of one table row."""
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row_html, re.S)]


def test_report_opens_on_the_monthly_picture(bundled_warehouse):
    """Issue 15: the first section and the first chart are ICE arrests per day by month against the goal in
    force, with the sentences, the latest twelve months and the other targets; January 2025 is one link down."""
    with open_warehouse(bundled_warehouse, read_only=True) as wh:
        html = build_report(wh)
    first_h2 = re.search(r"<h2[^>]*>(.*?)</h2>", html).group(0)
    assert first_h2 == '<h2 id="monthly">ICE arrests per day, month by month, against the goal in force</h2>'
    section = html[html.index('<h2 id="monthly">'):html.index('<h2 id="january-2025">')]
    assert section.index("<svg") < section.index("<table")  # the monthly chart comes first ...
    assert html.index("<svg") > html.index('<h2 id="monthly">')  # ... and is the page's first chart
    assert "ICE arrests per day, October 2023 - April 2026" in section[:section.index("</svg>")]
    sentences = re.findall(r"<li>(.*?)</li>", section[:section.index("</ul>")], re.S)
    assert sentences[0].startswith(
        "ICE-arrested book-ins averaged 955 a day in March 2026, 32% of the 3,000 arrests a day (White House goal, "
        "May 2025); estimated ICE arrests 1,196 a day (interval 997-1,921")
    assert '<a href="#january-2025">' in section  # the January 2025 view is one click down
    months = section[section.index("<h3>The latest twelve months</h3>"):]
    rows = re.findall(r"<tr><td class=\"l\">.*?</tr>", months[:months.index("</table>")], re.S)
    assert len(rows) == 12
    assert _cells(rows[0])[:3] == ["April 2026", "4 of 30 partial (to 2026-04-04)", "930"]
    march = _cells(rows[1])
    assert march[:4] == ["March 2026", "31 of 31", "955", "1,196 (997–1,921)"]
    assert march[4].startswith("3,000 a day 3,000 arrests a day (White House goal, May 2025)")
    assert march[5:] == ["32%", "40% (33–64%)"]
    may = _cells(rows[-1])  # the goal rose from 1,200-1,500 to 3,000 on May 21: the day-weighted mean
    assert may[0] == "May 2025" and may[4].startswith("1,839–2,032 a day")
    others = section[section.index("<h3>Removals and detention against their targets</h3>"):]
    assert "ICE removals (rate between editions) averaged 1,286 a day in March 2026, 47% of the 1 million" in others
    assert "Average daily population was 60,931 people on average in August 2025, 147% of the Funded" in others
    # the ledger's definitions, and the January 2025 view after the picture
    assert "How the monthly ledger reads each series" in html and "<em>Target in force</em>" in html
    assert html.index('<h2 id="january-2025">') < html.index("Daily arrests posted by ICE against the announced")


def test_report_says_how_far_the_projections_can_be_trusted(bundled_warehouse, evaluated, evaluations):
    """Issue 16: the capacity section shows the rolling-origin evaluation, computed once per report build."""
    with open_warehouse(bundled_warehouse, read_only=True) as wh:
        html = build_report(wh)
    assert len(evaluations) == 1
    start = html.index('<h3 id="evaluation">How far the projections can be trusted</h3>')
    section = html[start:html.index("<h2", start)]
    origins = int(re.search(r"forecast made at <b>(\d+) origins</b>", section).group(1))
    assert origins == evaluated["origins"]["count"] >= 40
    assert f"({evaluated['origins']['first']} to {evaluated['origins']['last']}" in section
    verdicts = re.findall(r"<li>(.*?)</li>", section[section.index('id="evaluation-verdicts"'):], re.S)[:3]
    assert verdicts == [html_text.escape(v, quote=True) for v in evaluated["verdicts"]]
    table = section[section.index('<table id="evaluation-table">'):section.index("</table>", section.index(
        '<table id="evaluation-table">'))]
    rows = [_cells(r) for r in re.findall(r"<tr>(.*?)</tr>", table[table.index("<tbody>"):], re.S)]
    assert len(rows) == 18  # 3 targets x 6 horizons
    assert [(r[0], r[1]) for r in rows[:7]] == [("ADP", str(h)) for h in range(1, 7)] + [("final book-outs", "1")]
    adp_1 = evaluated["per_horizon"][0]
    assert rows[0][2:5] == [str(adp_1["n"]), str(adp_1["model"]["n"]),
                            f"{adp_1['model']['mape']:.1f}% ({adp_1['model']['bias']:+.1f}%)"]
    assert rows[0][5] == f"{adp_1['model_vs']['last_value']['baseline_mape']:.1f}%"
    (h1,) = [c for c in evaluated["coverage"]["empirical"]["adp"]["per_horizon"] if c["horizon"] == 1]
    assert rows[0][-3:] == [str(h1["80"]["n"]), f"{h1['80']['achieved'] * 100:.0f}%",
                            f"{h1['95']['achieved'] * 100:.0f}%"]
    assert section.count("<svg") == 2  # coverage and error charts
    assert "Prediction bands: nominal against achieved coverage" in section
    assert "Forecast error by horizon" in section
    assert f"{evaluated['runs']} Monte Carlo runs per forecast" in section
    assert "split conformal" in section and "<em>Origin</em>" in section  # the method


def test_report_says_why_the_evaluation_is_missing(bundled_warehouse, monkeypatch):
    def too_early(wh, **kwargs):
        raise ValueError("no edition with monthly ADP was published on or before 2019-10-31: nothing to evaluate")

    monkeypatch.setattr(evaluation, "evaluate", too_early)
    with open_warehouse(bundled_warehouse, read_only=True) as wh:
        html = build_report(wh)
    start = html.index('<h3 id="evaluation">')
    assert ("the capacity model cannot be evaluated: no edition with monthly ADP was published on or before "
            "2019-10-31: nothing to evaluate.") in html[start:start + 400]
