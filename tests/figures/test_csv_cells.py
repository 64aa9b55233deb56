"""The one rule for CSV cells (every CSV icetrack writes) and for JSON numbers (every JSON it writes)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from hypothesis import given, strategies as st

from icetrack.figures.csv_cells import FORMULA_START, csv_cell, write_csv
from icetrack.domain.json_text import finite, strict_json
from icetrack.figures.result import http_url


@pytest.mark.parametrize("value, written", [
    ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
    ("+1+1", "'+1+1"), ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("-12.5", "-12.5"), ("+3", "+3"), ("-1e5", "-1e5"),  # text that is only a number runs nothing
    (-5, -5), (-1.5, -1.5), (0, 0), (None, None), (True, True), ("a = b", "a = b"), ("", ""),
    (date(2025, 1, 2), date(2025, 1, 2)), ({"aor": "=x"}, '{"aor": "=x"}'), (["=x"], '["=x"]'),
])
def test_csv_cell(value, written):
    assert csv_cell(value) == written


@given(st.text())
def test_any_text_reads_back_as_itself_or_as_quoted_text(text):
    out = io.StringIO()
    write_csv(out, [{"cell": text}], ["cell"])
    (row,) = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    back = row["cell"]
    assert back == text or (back == "'" + text and text.startswith(FORMULA_START))
    if back.startswith(FORMULA_START):
        float(back)  # only a plain number may still start like a formula


def test_write_csv_refuses_a_field_outside_the_header():
    with pytest.raises(ValueError, match="not in the header"):
        write_csv(io.StringIO(), [{"a": 1, "b": 2}], ["a"])


def test_json_numbers_are_finite_and_a_slip_fails_loudly():
    import numpy as np

    value = {"nan": float("nan"), "inf": [float("inf"), -float("inf")], "np": np.float64("nan"),
             "np32": np.float32("inf"), "ok": 1.5, "day": date(2025, 1, 2)}
    assert finite(value)["np32"] is None
    assert json.loads(strict_json(value)) == {"nan": None, "inf": [None, None], "np": None, "np32": None, "ok": 1.5,
                                              "day": "2025-01-02"}
    with pytest.raises(ValueError):
        json.dumps(float("nan"), allow_nan=False)  # what strict_json relies on, should finite() miss a value


@pytest.mark.parametrize("url, link", [("https://x.org/a", "https://x.org/a"), ("HTTP://X.ORG", "HTTP://X.ORG"),
                                       ("javascript:alert(1)", None), (" data:text/html,x", None), (None, None),
                                       ("//evil.example", None)])
def test_http_url(url, link):
    assert http_url(url) == link
