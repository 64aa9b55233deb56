"""The offline report escapes what users load: hostile labels, notes, URLs and file names, ingested through the
real CLI, come out as text, never as elements, attributes or scripts; the page forbids scripts itself."""

from __future__ import annotations

import pytest

from helpers import Icetrack
from hostile import (FIGURES_FILE, FORMULA, IMG, SCRIPT, TARGETS_FILE, URL, Page, assert_nothing_injected,
                     hostile_warehouse)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("hostile_report")
    warehouse = hostile_warehouse(folder)
    out = folder / "report.html"
    Icetrack(warehouse)("report", "--out", str(out))
    return out.read_text(encoding="utf-8")


def test_hostile_text_is_shown_as_text_and_injects_nothing(report):
    page = assert_nothing_injected(report)
    text = "".join(page.text)
    # every hostile value reached the page, as text: the target's label, reporter and note, the file names
    for value in (SCRIPT, IMG, FORMULA, SCRIPT + IMG, TARGETS_FILE, FIGURES_FILE):
        assert value in text, value
    # the URL that closes its attribute is one whole href, and shown as its own text
    assert [a["href"] for _, a in page.elements if a.get("href") == URL] and URL in text
    # inside the inline SVG charts too (the target bands carry the label)
    assert any(SCRIPT in (a.get("aria-label") or "") for _, a in page.elements)


def test_report_forbids_scripts_itself(report):
    page = Page(report)
    (csp,) = [a["content"] for tag, a in page.elements
              if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'" and "script-src" not in directives
    assert directives["style-src"] == "'unsafe-inline'" and directives["img-src"] == "data:"
    assert "<script" not in report.lower()
