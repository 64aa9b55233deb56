"""Files with hostile text in every field a user file can fill, loaded through the real CLI (``icetrack ingest``):
shared by the report, dashboard and CSV-download tests. The CSV readers refuse malformed dates, numbers and
non-http(s) URLs, but labels, notes, names, dimension values, file names and the rest of a URL are free text.
"""

from __future__ import annotations

import csv
import re
from html.parser import HTMLParser
from pathlib import Path

from helpers import Icetrack

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
FORMULA = '=HYPERLINK("http://evil.example","click")'
# A URL only has to start with http(s):// and hold no space, so it can close the attribute it is written into.
URL = 'https://x.org/"><script>alert(3)</script>'
# A file's name is shown as its edition's title and file name.
TARGETS_FILE = "<img src=x onerror=alert(4)>.csv"
FIGURES_FILE = "=1+1 onmouseover=alert(5).csv"
# The report's "Data for Datawrapper" downloads: CSV only, every character but [A-Za-z0-9_.~-] percent-encoded, so
# no text written into one can close the attribute or make the link anything but a CSV file.
CSV_DOWNLOAD = re.compile(r"data:text/csv;charset=utf-8,[A-Za-z0-9%_.~-]*")
FORMULAS = [FORMULA, "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
            "\t=1+1", "\r=1+1"]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def targets_csv(folder: Path) -> Path:
    """Two national arrest targets (so both meet the ICE-posted daily series) with hostile label, reporter,
    note and URL."""
    header = ["target_id", "kind", "label", "concept", "scope", "value_low", "value_high", "unit", "source_url",
              "announced_on", "reported_by", "note"]
    return write_csv(folder / TARGETS_FILE, header, [
        ["hostile_script", "target", SCRIPT, "arrests", "national", "1500", "1600", "arrests per day", URL,
         "2025-01-20", IMG, SCRIPT + IMG],
        ["hostile_formula", "target", FORMULA, "arrests", "national", "1700", "1700", "arrests per day",
         "https://x.org/ok", "2025-01-20", FORMULAS[3], FORMULAS[1]],
    ])


def figures_csv(folder: Path) -> Path:
    """ICE-posted arrests of a field office whose name is hostile, with hostile notes and URL."""
    header = ["date", "measure", "value", "unit", "source_url", "dim_aor", "note"]
    names = [SCRIPT, IMG] + FORMULAS
    rows = [["2025-01-2" + str(i), "ice_posted_arrests", str(10 + i), "arrests", URL, name, names[-1 - i]]
            for i, name in enumerate(names)]
    return write_csv(folder / FIGURES_FILE, header, rows)


def hostile_warehouse(folder: Path) -> Path:
    """A warehouse with the bundled reference data and both hostile files, loaded by ``icetrack ingest``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "hostile.duckdb"
    Icetrack(path)("ingest", str(targets_csv(folder)), str(figures_csv(folder)))
    return path


def zero_book_outs_csv(folder: Path) -> Path:
    """A month (before the bundled workbooks begin) whose final book-outs are all zero: its removal share is
    0 / 0, a NaN that JSON cannot carry."""
    header = ["date", "measure", "value", "unit", "source_url", "period_end", "grain", "dim_criminality",
              "dim_release_reason"]
    return write_csv(folder / "zero_book_outs.csv", header, [
        ["2017-01-01", "book_outs", "0", "book-outs", "https://example.org/x", "2017-01-31", "month", "Total", reason]
        for reason in ("Release to Remove", "Paroled", "Transferred")])


class Page(HTMLParser):
    """Every element (with its attributes) and the text of an HTML page, as a browser's parser reads them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def assert_nothing_injected(html: str, allowed_tags: frozenset[str] = frozenset()) -> Page:
    """No element, event-handler attribute or link that a hostile value could have written; the parsed page."""
    page = Page(html)
    tags = {tag for tag, _ in page.elements}
    assert not tags & ({"script", "img", "iframe", "object", "embed", "base", "form"} - allowed_tags), tags
    handlers = [(tag, name) for tag, attrs in page.elements for name in attrs if name.lower().startswith("on")]
    assert handlers == []
    hrefs = [attrs["href"] for tag, attrs in page.elements if tag == "a" and attrs.get("href")]
    assert all(h.startswith(("#", "http://", "https://", "/")) or CSV_DOWNLOAD.fullmatch(h) for h in hrefs), hrefs
    return page
