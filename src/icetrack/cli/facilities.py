"""``icetrack facilities``: every facility of the loaded workbook editions, one facility's history, and the rename
candidates no curated record confirms."""

from __future__ import annotations

import click
from rich.markup import escape

from icetrack.cli.options import AS_CSV, AS_JSON, warehouse
from icetrack.cli.output import console, emit, fail, say, table

CSV_FIELDS = ["facility_id", "name", "city", "state", "aor", "facility_type", "gender", "first_listed", "last_listed",
              "n_editions", "adp", "alos", "guaranteed_minimum", "adp_as_of", "inspection_type", "inspection_date",
              "inspection_standard", "inspection_rating", "former_names"]
HISTORY_CSV_FIELDS = ["edition_id", "file_name", "as_of", "fiscal_year", "name", "adp", "adp_convicted",
                      "adp_not_convicted", "adp_mandatory", "alos", "guaranteed_minimum", "rows", "adp_repeat_rows"]


def _num(v, digits: int = 1) -> str:
    return "" if v is None else f"{v:,.{digits}f}"


@click.command()
@click.option("--state", metavar="ST", help="Only facilities in this state (two-letter code, e.g. TX).")
@click.option("--facility", "facility_id", metavar="ID", help="One facility's figures in every edition listing it.")
@click.option("--candidates", is_flag=True,
              help="List the possible renames no curated record confirms (never merged), for a person to check.")
@AS_JSON
@AS_CSV
@click.pass_context
def facilities(ctx: click.Context, state: str | None, facility_id: str | None, candidates: bool, as_json: bool,
               as_csv: bool) -> None:
    """Every facility listed in the loaded ICE detention-statistics workbooks, one row per facility across editions.

    A facility is its normalised name and state (icetrack.domain.facility_identity); renames and merges come
    only from icetrack's curated list. ADP is fiscal year to date as of the facility's latest listing.
    JSON: {state, states, n_facilities, latest_edition, has_listings, by_state, renames, candidates, rows,
    provenance}; with --facility: {facility_id, facility, renames, candidates, rows (one per edition)}.
    """
    from icetrack.figures import facilities as figure
    from icetrack.figures.result import NotFound

    if state is not None and (len(state) != 2 or not state.isalpha()):
        fail(f"--state '{state}' is not a two-letter state code")
    with warehouse(ctx, read_only=True) as wh:
        try:
            result = figure.facility(wh, facility_id) if facility_id else figure.facilities(wh, state)
        except NotFound as e:
            fail(str(e))
    if facility_id:
        emit(result.as_json(), lambda _: _render_history(result), as_json=as_json, as_csv=as_csv,
             csv_fields=HISTORY_CSV_FIELDS, csv_rows=[{k: r.get(k) for k in HISTORY_CSV_FIELDS} for r in result.rows])
    elif candidates:
        found = result.detail["candidates"]
        emit(found, _render_candidates, as_json=as_json, as_csv=as_csv, csv_rows=found,
             csv_fields=list(found[0]) if found else ["old_id"])
    else:
        emit(result.as_json(), lambda _: _render_table(result), as_json=as_json, as_csv=as_csv,
             csv_fields=CSV_FIELDS, csv_rows=[{k: r.get(k) for k in CSV_FIELDS} for r in result.rows])


def _render_table(result) -> None:
    d = result.detail
    latest = d["latest_edition"]
    console.print(table(("facility id", "name", "city", "state", "AOR", "type", "ADP", "ALOS", "as of", "editions"),
                        [(escape(r["facility_id"]), escape(r["name"] or ""), escape(r["city"] or ""), r["state"] or "",
                          r["aor"] or "", escape(r["facility_type"] or ""), _num(r["adp"]), _num(r["alos"]),
                          r["adp_as_of"] or "", str(r["n_editions"])) for r in result.rows],
                        right={"ADP", "ALOS", "editions"}, overflow="fold",
                        title=f"{d['n_facilities']} facilities" + (f" in {d['state']}" if d["state"] else "")))
    say(f"ADP: fiscal year to date as of the facility's latest listing. Latest edition with facility rows: "
        f"{latest['file_name']} (as of {latest['as_of']}). {len(d['renames'])} curated renames and merges applied; "
        f"{len(d['candidates'])} possible renames unconfirmed (icetrack facilities --candidates).")
    if not d["has_listings"]:
        say("The facility listings (gender, inspections) are not stored for these editions: they were loaded "
            "before icetrack kept them; ingest the workbooks into a fresh warehouse to add them.", style="yellow")


def _render_history(result) -> None:
    f = result.detail["facility"]
    console.print(table(("as of", "FY", "printed as", "ADP", "convicted", "mandatory", "ALOS", "guar. min.", "edition"),
                        [(r["as_of"] or "", str(r["fiscal_year"] or ""), escape(r["name"] or ""), _num(r["adp"]),
                          _num(r["adp_convicted"]), _num(r["adp_mandatory"]), _num(r["alos"]),
                          _num(r["guaranteed_minimum"], 0), escape(r["file_name"])) for r in result.rows],
                        right={"ADP", "convicted", "mandatory", "ALOS", "guar. min."}, overflow="fold",
                        title=escape(f"{f['name']} ({result.detail['facility_id']}), {f['city']}, {f['state']}")))
    for r in result.detail["renames"]:
        say(f"{r['kind']}: {r['old_name']} -> {r['new_name']} (from {r['first_edition']}): {r['evidence']}")
    for c in result.detail["candidates"]:
        say(f"unconfirmed: {c['old_name']} (last listed {c['old_last_listed']}) -> {c['new_name']} (first listed "
            f"{c['new_first_listed']}); not merged", style="yellow")


def _render_candidates(found: list[dict]) -> None:
    console.print(table(("old", "last listed", "new", "first listed", "state", "city", "AOR", "same type"),
                        [(escape(c["old_id"]), c["old_last_listed"], escape(c["new_id"]), c["new_first_listed"],
                          c["state"], escape(c["city"]), c["aor"], "yes" if c["same_type"] else "no") for c in found],
                        overflow="fold", title=f"{len(found)} possible renames, unconfirmed (not merged)"))
