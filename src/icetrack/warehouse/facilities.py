"""The facility listings of ICE's detention-statistics workbooks: how they are stored and read (the only SQL
about facilities).

``facility_listings`` holds one row per facility row of an edition's Facilities sheet, as printed (name,
city, state, AOR, type, gender, last inspection, facility code when printed); the facility figures are
ordinary observations (``facility_adp``, ``facility_alos``, ``facility_guaranteed_minimum``) whose dims
carry the same name, city, state, AOR and type. The identity across editions is a domain rule applied in
:mod:`icetrack.metrics.facilities`, never stored: correcting the curated renames changes no stored row.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from icetrack.domain.edition import ParsedSource
from icetrack.domain.json_text import strict_json

LISTING_FIELDS = ("name", "city", "state", "aor", "facility_type", "gender", "facility_code", "inspection_type",
                  "inspection_date", "inspection_standard", "inspection_rating", "inspection_pending")
LISTINGS_DDL = """
CREATE TABLE IF NOT EXISTS facility_listings (
    edition_id          VARCHAR NOT NULL,
    position            INTEGER NOT NULL,   -- the row's place in the edition's facility list (1 = first facility)
    listing             INTEGER NOT NULL,   -- 1; 2 for a facility printed a second time in one edition
    name                VARCHAR NOT NULL,   -- as printed
    city                VARCHAR,
    state               VARCHAR,
    aor                 VARCHAR,
    facility_type       VARCHAR,            -- 'Type Detailed'
    gender              VARCHAR,            -- 'Male/Female': the genders the facility holds
    facility_code       VARCHAR,            -- ICE's code, when the sheet prints one (none has so far)
    inspection_type     VARCHAR,
    inspection_date     VARCHAR,            -- ISO date when it reads as one, else as printed
    inspection_standard VARCHAR,
    inspection_rating   VARCHAR,
    inspection_pending  VARCHAR,
    inspection_more     VARCHAR,            -- JSON: other inspection columns, by header as printed
    PRIMARY KEY (edition_id, position)
);
"""
_SCHEMA = pa.schema([("edition_id", pa.string()), ("position", pa.int32()), ("listing", pa.int32()),
                     *[(f, pa.string()) for f in LISTING_FIELDS], ("inspection_more", pa.string())])


def insert_listings(con, parsed: list[ParsedSource]) -> int:
    """Insert the facility listings of ``parsed`` (the caller holds the transaction); returns the rows added."""
    rows: list[dict[str, Any]] = []
    for p in parsed:
        for listing in p.facility_listings:
            more = listing.get("inspection_more")
            rows.append({"edition_id": p.edition.edition_id, "position": int(listing["position"]),
                         "listing": int(listing.get("listing") or 1),
                         **{f: (str(listing[f]) if listing.get(f) is not None else None) for f in LISTING_FIELDS},
                         "inspection_more": strict_json(more) if more else None})
    if not rows:
        return 0
    staged = pa.Table.from_pylist(rows, schema=_SCHEMA)
    con.register("staged_listings", staged)
    try:
        con.execute(f"INSERT INTO facility_listings ({', '.join(_SCHEMA.names)}) "
                    f"SELECT {', '.join(_SCHEMA.names)} FROM staged_listings")
    finally:
        con.unregister("staged_listings")
    return len(rows)


def delete_listings(con, edition_id: str) -> None:
    con.execute("DELETE FROM facility_listings WHERE edition_id = ?", [edition_id])


def listings(wh, state: str | None = None) -> list[dict[str, Any]]:
    """Every stored listing with its edition's date and file (optionally of one printed state), oldest
    edition first."""
    where, params = ("WHERE upper(l.state) = ?", [state.upper()]) if state else ("", [])
    cur = wh.con.execute(
        f"""SELECT l.*, e.as_of, e.published_on, e.file_name, e.original_url, e.synthetic
            FROM facility_listings l JOIN editions e USING (edition_id) {where}
            ORDER BY coalesce(e.as_of, e.published_on), e.file_name, l.position""", params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def has_listings(wh) -> bool:
    return bool(wh.con.execute("SELECT count(*) FROM facility_listings").fetchone()[0])


def facility_figures(wh, measures: tuple[str, ...] = ("facility_adp", "facility_alos",
                                                      "facility_guaranteed_minimum")) -> list[dict[str, Any]]:
    """Every edition's facility figures (each edition its own vintage: a facility's history is its value in
    each edition), with the printed facility dims as columns."""
    placeholders = ", ".join("?" for _ in measures)
    cur = wh.con.execute(
        f"""SELECT o.edition_id, o.measure, o.dims['facility'] AS facility, o.dims['city'] AS city,
                   o.dims['state'] AS state, o.dims['aor'] AS aor, o.dims['facility_type'] AS facility_type,
                   coalesce(o.dims['listing'], '1') AS listing, o.dims['breakdown'] AS breakdown,
                   o.dims['category'] AS category, o.period_start, o.period_end, o.value, o.unit,
                   e.as_of, e.file_name
            FROM observations o JOIN editions e USING (edition_id)
            WHERE o.measure IN ({placeholders})
            ORDER BY coalesce(e.as_of, e.published_on), e.file_name""", list(measures))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]
