"""The chart helpers every figure's Vega-Lite spec shares: title, theme, month axis, rendering.

Specs are built with Altair and rendered offline by vl-convert (no browser, no network). The theme keeps
legend labels whole, writes the year on every month axis, drops overlapping tick labels and never imputes
a value for a month that has no figure (a missing month is left out, not drawn at zero).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import vl_convert as vlc

WIDTH = 640
MONTH_FORMAT = "%b %Y"
LEGEND_LABEL_LIMIT = 400  # pixels: the longest legend label ("removal_share_excluding_transfers") needs ~230
MAX_GROUPS = 12  # small multiples beyond this are unreadable; the CSV holds every group
MONTH_GAP_DAYS = 32  # the starts (or mid-points) of consecutive months are at most 31 days apart
SNAPSHOT_GAP_DAYS = 45  # workbook editions come every two to four weeks; a longer silence is a gap in the record


class NothingToDraw(ValueError):
    """The figure has no published data to draw (every cell suppressed, no rows for these filters ...)."""


def title(text: str, *subtitle: str) -> alt.Title:
    return alt.Title(text, subtitle=[s for s in subtitle if s], anchor="start")


def month_axis(**kw: Any) -> alt.Axis:
    """A time axis of months: 'Oct 2024', labels that would overlap dropped."""
    return alt.Axis(format=MONTH_FORMAT, labelOverlap="greedy", labelSeparation=8, labelAngle=0, **kw)


def gap_runs(frame: pd.DataFrame, date_column: str, by: Sequence[str] = (),
             max_gap_days: int = MONTH_GAP_DAYS) -> pd.DataFrame:
    """``frame`` sorted by date with a ``run`` column numbering its unbroken stretches (within each ``by``
    group). A line chart draws each run apart (``detail="run:N"``), so a month with no figure is a gap in the
    line - not a line drawn across it, nor to zero."""
    frame = frame.sort_values([*by, date_column])
    dates = pd.to_datetime(frame[date_column])
    groups = [frame[b] for b in by]
    gaps = dates.groupby(groups).diff() if by else dates.diff()
    breaks = (gaps > pd.Timedelta(days=max_gap_days)).astype(int)
    return frame.assign(run=breaks.groupby(groups).cumsum() if by else breaks.cumsum())


def themed(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The shared theme: whole legend labels, no imputation of missing values (invalid ones are filtered)."""
    return (chart.configure_legend(labelLimit=LEGEND_LABEL_LIMIT, titleLimit=LEGEND_LABEL_LIMIT)
            .configure_mark(invalid="filter")
            .configure_line(strokeJoin="round")  # mitred joins draw spikes past sharp turns (false peaks)
            .configure_axis(labelOverlap="greedy"))


def spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The Vega-Lite spec of ``chart`` with the shared theme."""
    return themed(chart).to_dict()


def render(chart_spec: dict[str, Any], fmt: str) -> bytes | str:
    """A Vega-Lite spec as SVG text or PNG bytes."""
    if fmt == "svg":
        return vlc.vegalite_to_svg(chart_spec)
    if fmt == "png":
        return vlc.vegalite_to_png(chart_spec, scale=2)
    raise ValueError(f"unknown chart format '{fmt}' (use .png or .svg)")


def save(chart_spec: dict[str, Any], out: Path) -> Path:
    """Write the chart to ``out``; the format follows the extension (.png or .svg)."""
    data = render(chart_spec, out.suffix.lower().lstrip("."))
    out.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        out.write_text(data, encoding="utf-8")
    else:
        out.write_bytes(data)
    return out
