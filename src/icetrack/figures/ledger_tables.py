"""The tables the report and the dashboard show under the monthly picture (:func:`icetrack.figures.ledger.picture`):
the latest months of ICE arrests against the daily arrest goal, and the other targets (removals, detention
beds) with the sentence for each. Both front ends render these rows, so they show the same figures.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from icetrack.figures.ledger import GOAL_TRACK, sentences
from icetrack.figures.result import Result

RECENT_MONTHS = 12
BOOK_INS, ESTIMATED = "book_ins.ice_arrested", "arrests.estimated"


def _series(doc: dict, series_id: str) -> dict | None:
    return next((s for s in doc["series"] if s["series_id"] == series_id), None)


def _track_periods(series: dict | None, track: str) -> dict[str, dict]:
    """The periods of ``series`` scored against ``track``, by period start (empty when either is absent)."""
    t = next((t for t in (series or {}).get("targets", []) if t["track"] == track), None)
    return {p["period_start"]: p for p in t["periods"]} if t else {}


def recent_months(picture: Result, n: int = RECENT_MONTHS) -> list[dict[str, Any]]:
    """The last ``n`` months of the picture, newest first: days covered (a partly covered month is marked),
    ICE-arrested book-ins per day, estimated arrests per day with their interval, the daily arrest goal in
    force (the day-weighted mean when it changed within the month) and the attainment of each."""
    doc = picture.detail["ledger"]
    book_ins, estimated = _series(doc, BOOK_INS), _series(doc, ESTIMATED)
    if book_ins is None:
        return []
    labels = {t["target_id"]: t["label"] for t in doc["targets"]}
    goal_b, goal_e = _track_periods(book_ins, GOAL_TRACK), _track_periods(estimated, GOAL_TRACK)
    est = {p["period_start"]: p for p in (estimated or {}).get("periods", [])}
    rows = []
    for p in book_ins["periods"][-n:][::-1]:
        start = p["period_start"]
        gb, ge, e = goal_b.get(start, {}), goal_e.get(start, {}), est.get(start, {})
        rows.append({
            "month": start[:7], "month_text": f"{date.fromisoformat(start):%B %Y}",
            "days_covered": p["days_covered"], "days_in_period": p["days_in_period"], "partial": p["partial"],
            "covered_to": p.get("covered_to"), "book_ins_per_day": p["per_day"],
            "estimated_per_day": e.get("per_day"), "estimated_low": e.get("per_day_low"),
            "estimated_high": e.get("per_day_high"),
            "goal_low": gb.get("target_low"), "goal_high": gb.get("target_high"),
            "goal_labels": [labels.get(t, t) for t in gb.get("in_force", [])],
            "book_ins_attainment_pct": gb.get("attainment_low_pct"),
            "estimated_attainment_pct": ge.get("attainment_low_pct"),
            "estimated_attainment_band_pct": ge.get("attainment_band_pct")})
    return rows


def other_targets(picture: Result) -> list[dict[str, Any]]:
    """One row per (series, target track) of the picture's other series (removals per day, detained population
    against beds): the series, the track's targets and the sentence a reporter can quote (the latest full
    month against the target in force then)."""
    doc = picture.detail["others"]
    rows = []
    for s in doc["series"]:
        for t in (t for t in s["targets"] if t["kind"] == "target"):
            # the sentence of this one track: the ledger's sentence writer, given only this series and track
            said = sentences({**doc, "series": [{**s, "targets": [t]}]})
            if said:
                rows.append({"series": s["label"], "series_id": s["series_id"], "track": t["track"],
                             "targets": [h["label"] for h in t["targets"]], "sentence": said[0]})
    return rows


def arrest_sentences(picture: Result) -> list[str]:
    """The sentences about ICE arrests (book-ins and the estimate, person-level counts where loaded)."""
    return sentences(picture.detail["ledger"])


def definition_items(text: str) -> list[list[dict[str, Any]]]:
    """The ledger's definition text (``- item`` lines after a heading, *terms* between asterisks) as one list of
    parts per item, each part {"text", "em"}, so a page can set the terms in italics and still escape them."""
    items = []
    for chunk in text.split("\n- ")[1:]:
        parts = re.split(r"\*(.+?)\*", " ".join(chunk.split()))
        items.append([{"text": part, "em": i % 2 == 1} for i, part in enumerate(parts) if part])
    return items
