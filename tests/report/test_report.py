"""The offline report and chart exports are real, self-contained pictures and pages."""

from __future__ import annotations

import re
import struct
import zlib

from icetrack.report.build import build_report
from icetrack.warehouse import open_warehouse


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
    # every loaded edition (bundled references and national workbook figures) is cited once
    assert len(re.findall(r'<li id="note-\d+">', html)) == len(set(re.findall(r'<li id="note-(\d+)">', html))) == 34
    assert "nbcconnecticut.com" in html and "Washington Post" in html
    assert "Definitions" in html and "not an arrest" in html
    # the claims section: the "just 1,100" claim with ICE's own 1,179 against it, citing the posts' edition
    claims = html[html.index("<h2>Claims checked</h2>"):html.index("ICE detention statistics")]
    row = claims[claims.index("just 1,100"):]
    row = row[:row.index("</tr>")]
    assert 'class="verdict-contradicted">contradicted' in row and "at least 1,179 (2025-01-27)" in row
    assert re.search(r'<sup><a href="#note-\d+">', row)
    assert claims.count('class="verdict-') == 9 and "becomes not checkable" in claims


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
