"""Reader for ICE ERO "Detention Statistics" workbooks (``FYnn_detentionStats*.xlsx``).

ICE's Enforcement and Removal Operations publishes one workbook roughly every two weeks on its "Detention
Management" page (https://www.ice.gov/detain/detention-management). Each is cumulative for one fiscal year
(FY = 1 Oct - 30 Sep) and ICE revises earlier months until the year is locked, so every figure is tied to
its edition (file name, sha256, as-of date). Tables move between rows from edition to edition and their
titles drift, so each table is located by its title text and read until the first blank row; no cell address
is fixed.

The sheets loaded are those of the edition's own fiscal year (:mod:`.sheets`: some editions re-post another
year's sheet, e.g. ``Detention EOFY2020`` before ``Detention FY26``; such sheets are skipped with a warning
and listed in the edition's ``sheets_skipped``): ``Detention ...`` (the national tables, plus the credible-fear,
parole and FAMU tables of :mod:`.fear`), ``Facilities ...`` (one row per facility) and, where the edition has
them, the ATD (:mod:`.atd`), ICLOS (:mod:`.iclos`), bond (:mod:`.bonds`), semiannual (:mod:`.semiannual`),
vulnerable-population (:mod:`.vulnerable`) and monthly segregation (:mod:`.segregation`) sheets, whose tables
:mod:`.catalog` lists by sheet role. The segregation sheet, which declares 16,383 columns since June 2025, is
read by its own bounded loader (:mod:`.first_columns`).

A national table that cannot be found is reported (a warning and the edition's ``missing_tables``) and the
rest loads; tables of the other sheets come and go between years and are only absent from the edition's
``layout``. A table whose title matches but whose header or body is not a layout its reader knows refuses
the file in one line naming the table, unless the policy is ``partial`` (:mod:`.read_tables`). A Detention
sheet on which no national table can be read is refused. A table published twice (its title printed twice, or two copies stacked) keeps the first copy's
values and is listed in ``flagged_tables``: the warehouse refuses an edition holding two values for one key.
An edition whose only Detention sheet is an earlier year's (``Detention EOFY2020`` in an FY21 file) is read
as that year's edition, because its figures are that year's; its snapshot tables are not emitted, as the
day they describe is not the file's as-of date.

Measures emitted by the national tables (blank cells are skipped, never read as zero; months starting after
the as-of date are not emitted, because ICE fills future months with 0; the other sheets' measures are
documented in their modules and in ``icetrack measures``):

=================================  ====================  ===============================================
measure                            grain                 dims
=================================  ====================  ===============================================
currently_detained                 snapshot              criminality, agency
currently_detained_by_disposition  snapshot              disposition, facility_type
book_ins                           month                 agency
book_ins_by_facility_type          fytd                  facility_type, criminality
book_outs                          month (fytd in FY19   release_reason, criminality
                                   and FY20 layouts)
book_outs_by_facility_type         fytd                  facility_type
removals_fytd                      fytd                  (none)
adp, alos                          month; fytd for the   agency, criminality
                                   "FY Overall" column
adp_by_facility_type,              month; fytd for       facility_type
alos_by_facility_type              "FY Overall"
facility_adp                       fytd                  facility, city, aor, facility_type, state, breakdown,
                                                         category (+ gender, criminality for the
                                                         gender_criminality breakdown)
facility_alos                      fytd                  facility, city, aor, facility_type, state
facility_guaranteed_minimum        snapshot              facility, city, aor, facility_type, state
=================================  ====================  ===============================================

Grain notes: ``snapshot`` rows have period_start = period_end = as-of date. ``fytd`` rows run from 1 Oct
of the fiscal year to the as-of date, capped at 30 Sep (year-end editions are pulled after the year
closed, e.g. FY24's as of 2024-10-07, but their figures still cover the fiscal year only). A month that
was still running at the as-of date carries the note "partial month". Row totals of monthly count tables
(the "Total" column of book-ins and book-outs) are not emitted: they are the sum of the months. The
"FY Overall" column of ADP/ALOS is emitted because an average over the year cannot be rebuilt from the
monthly averages.

Dimension vocabularies (labels are stripped and inner whitespace collapsed first):

* agency: ``ICE``, ``CBP``, ``Total``. ADP/ALOS group rows ``CBP Average`` / ``ICE Average  `` map to
  CBP / ICE; the plain ``Average`` row (with or without trailing space) is the all-agency ``Total``.
* criminality: ``Convicted Criminal``, ``Pending Criminal Charges``, ``Other Immigration Violator``,
  ``Total``; singular/plural and case variants map onto these. One category cannot: the FY19 ADP table
  (and the facility ADP columns ``Male/Female Non-Crim``) use ``Non-Criminal``, which is everyone not
  convicted (Pending Criminal Charges + Other Immigration Violator: in FY19 Convicted + Non-Criminal
  equals the agency average exactly). It is kept as the fifth value ``Non-Criminal`` rather than forced
  into one of the four. Facility columns ``Male/Female Crim`` map to ``Convicted Criminal`` (summed over
  facilities they track the national Convicted Criminal ADP, e.g. FY23 7,935 vs 8,008).
* release_reason: the workbook label without a trailing `` Total``, spelled as in the FY25 workbooks
  (``Order of supervision`` -> ``Order of Supervision``); the grand-total row is ``Total``. Note that
  ``Bond Set by ICE`` and ``Bond Set by IJ`` are the two parts of ``Bonded Out``; summing all reasons
  double-counts bonds. Tables titled "ICE Final Releases ..." (FY19 - Jan 2024) list release reasons
  only, without removals, so their ``Total`` is total releases; those rows carry a note saying so.
* facility_type (national tables): the column/row label as printed (``FRC``, ``FSC``, ``Adult``, ``Total``).
  In the facility measures it is the facility's ``Type Detailed`` (``IGSA``, ``DIGSA``, ``CDF``, ...).

Edition (:mod:`.edition`): ICE's file URL, the publication date in the file name, and the Facilities
sheet's IIDS line as the edition's single as-of date. Some editions' Detention tables were pulled a few
days later (the 05/12/2025 edition: Facilities 04/28, Footnotes say detention data through 05/03); their
counts for days after the as-of date fall in a month that starts after it and are not emitted, which the
warnings report per table.

Modules: :mod:`.workbook` (bounded xlsx access: zip-bomb limits, cached formula values, sheets as grids),
:mod:`.sheets` (which sheets are read), :mod:`.tables` (finding a table by its title), :mod:`.national` and :mod:`.facilities` (the table readers),
:mod:`.observations` (periods and notes of the emitted rows), :mod:`.labels` (vocabularies).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

from icetrack.domain.edition import ParsedSource, SourceError, observations_table
from icetrack.domain.plausible import DEFAULT_POLICY, EARLIEST_WORKBOOK_DATE, IngestPolicy, date_problem
from icetrack.sources.ice_detention.edition import edition_info, find_as_of, fiscal_year_of, name_fiscal_year
from icetrack.sources.ice_detention.facilities import read_facilities
from icetrack.sources.ice_detention.footnotes import table_dates
from icetrack.sources.ice_detention import semiannual
from icetrack.sources.ice_detention.catalog import CORE_TABLE_NAMES, GRID_LOADERS, TABLES_BY_ROLE
from icetrack.sources.ice_detention.observations import ParseContext
from icetrack.sources.ice_detention.sheets import SheetChoice, choose_detention, classify_sheet, finish_choice
from icetrack.sources.ice_detention.read_tables import TableReport, read_sheet_tables, sheet_layout
from icetrack.sources.ice_detention.tables import TITLE_BOOK_INS, locate_tables
from icetrack.sources.ice_detention.workbook import FastexcelWorkbook, Workbook, check_cached_values, check_container


def looks_like_workbook(path: str | Path) -> bool:
    """Cheap format sniff: an .xlsx/.xlsm name and the zip local-header magic."""
    p = Path(path)
    if p.suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    try:
        with open(p, "rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def parse_workbook(path: str | Path, policy: IngestPolicy = DEFAULT_POLICY) -> ParsedSource:
    """Parse one ICE detention-statistics workbook into its edition info and long-format observations."""
    return parse_with(Path(path), FastexcelWorkbook, policy)


def parse_with(path: Path, open_workbook: Callable[[Path], Workbook],
               policy: IngestPolicy = DEFAULT_POLICY) -> ParsedSource:
    """Parse one workbook through any cell source (fastexcel in :func:`parse_workbook`; the openpyxl speed
    baseline in ``benchmarks/`` plugs in its own). Values and dates outside the plausible range are refused
    unless ``policy`` allows them; the edition records what it let in."""
    sheet_xml_paths = check_container(path)
    workbook = open_workbook(path)
    sheets = [classify_sheet(name) for name in workbook.sheet_names]
    chosen = choose_detention(sheets)
    if chosen is None:
        raise SourceError(path, "required table 'ICE Currently Detained by Criminality and Arresting Agency' "
                                "not found: the workbook has no 'Detention ...' sheet", where="workbook")
    check_cached_values(path, sheet_xml_paths, [chosen.name])
    detention = workbook.grid(chosen.name)
    warnings: list[str] = []
    book_ins = locate_tables(detention, TITLE_BOOK_INS)
    fiscal_year = fiscal_year_of(path, book_ins[0] if book_ins else None, chosen.name, warnings)
    if chosen.fiscal_year is not None and chosen.fiscal_year != fiscal_year:
        warnings.append(f"sheet '{chosen.label}' is named FY{chosen.fiscal_year} but its book-ins table says "
                        f"FY{fiscal_year}; read as FY{fiscal_year}")
    choice = finish_choice(sheets, chosen, fiscal_year, tuple(r for r in TABLES_BY_ROLE if r != "detention"))
    warnings.extend(reason for _, reason in choice.skipped)
    facilities = None
    if choice.facilities is not None:
        check_cached_values(path, sheet_xml_paths, [choice.facilities.name])
        facilities = workbook.grid(choice.facilities.name)
    else:
        warnings.append(f"no 'Facilities ...' sheet of FY{fiscal_year}: facility_adp and facility_alos not emitted")
    data_source = find_as_of(path, workbook, [g for g in (facilities, detention) if g is not None])
    stale = stale_snapshot_reason(path, fiscal_year, data_source)
    # The footnotes date the file's own fiscal year; a re-posted earlier year's sheet keeps the file's date.
    stated = table_dates(workbook, fiscal_year) if stale is None else None
    dates = {topic: found.date for topic, found in stated.topics.items()} if stated else {}
    if stated:  # the semiannual tables run through their own refresh date (their Footnotes section)
        dates.update({semiannual.DATE_KEY.format(event=event): day
                      for event, day in semiannual.semiannual_dates(stated.lines).items()})
    # The edition is as of its detention tables (the Footnotes sheet's snapshot date), not of the Facilities
    # sheet's "Data Source" line, which ICE often dates days earlier (or, in year-end files, weeks later).
    as_of = dates.get("currently_detained") or max((dates[t] for t in CORE_TOPICS if t in dates),
                                                     default=data_source)
    dates["facilities"] = data_source
    edition = replace(edition_info(path, fiscal_year, as_of), data_source_date=data_source,
                      table_dates=tuple(sorted(_stated(stated).items())) if stated else ())
    ctx = ParseContext(path=path, fiscal_year=fiscal_year, as_of=as_of, source_url=edition.original_url or "",
                       warnings=warnings, policy=policy, table_dates=dates)
    # An as-of date after today would make this edition "the latest" and let ICE's pre-filled zeros for the
    # months to come in as reported figures: the Data Source date and every table date are checked.
    for what, day in [("as-of date", data_source)] + [(f"{t} date", d) for t, d in sorted(dates.items())]:
        problem = date_problem(day, what, earliest=EARLIEST_WORKBOOK_DATE)
        if problem:
            ctx.implausible("workbook" if what == "as-of date" else "Footnotes", problem)
    if as_of < ctx.fy_start:
        warnings.append(f"as-of date {as_of} is before the start of FY{fiscal_year}")

    report = TableReport()
    report.layout["(workbook)"] = workbook_layout(path, workbook.sheet_names, fiscal_year)
    read_sheet_tables(ctx, detention, TABLES_BY_ROLE["detention"], report, stale_snapshot=stale,
                      expected=CORE_TABLE_NAMES)
    if not CORE_TABLE_NAMES.intersection(report.read):
        raise SourceError(path, f"no readable table on sheet '{chosen.label}' (not found: "
                                f"{'; '.join(report.missing)})", where=chosen.label)
    facility_listings: list[dict] = []
    if facilities is not None:
        report.layout["Facilities"] = sheet_layout(facilities)
        with ctx.dated("facilities"):
            facility_listings = read_facilities(ctx, facilities)
    read_other_sheets(ctx, path, workbook, choice, sheet_xml_paths, report)
    for where, count in ctx.future_values.items():
        warnings.append(f"{where}: {count} non-zero values in months starting after the table's date "
                        "not emitted (the table evidently holds days after the date its footnote states)")
    return ParsedSource(edition=_recorded(edition, ctx, choice, report), observations=observations_table(ctx.rows),
                        warnings=warnings, facility_listings=facility_listings)


# The tables an edition is dated by: its national detention tables (not ATD, ICLOS or encounters, which ICE
# often pulls on other days).
CORE_TOPICS = ("currently_detained", "book_ins", "book_outs", "removals", "detention")


def _stated(stated) -> dict[str, dict]:
    """The per-topic dates as the edition records them (date, kind, IIDS run date, the footnote's words)."""
    return {topic: {"date": found.date.isoformat(), "kind": found.kind,
                    "iids_run": found.run_date.isoformat() if found.run_date else None, "text": found.text[:300]}
            for topic, found in stated.topics.items()}


def _recorded(edition, ctx: ParseContext, choice: SheetChoice, report: TableReport):
    """The edition with how it was read: sheets used and skipped, tables missing and flagged, overrides."""
    edition = replace(edition, sheets_used=choice.used,
                      sheets_skipped=tuple(reason for _, reason in choice.skipped),
                      missing_tables=tuple(report.missing), flagged_tables=tuple(report.flagged),
                      layout=tuple(sorted(report.layout.items())))
    if ctx.overrides:
        shown = ctx.overrides[:10]
        more = f"; and {len(ctx.overrides) - len(shown)} more" if len(ctx.overrides) > len(shown) else ""
        edition = replace(edition, overrides=(f"allow_implausible: {'; '.join(shown)}{more}",))
    return edition


def stale_snapshot_reason(path: Path, fiscal_year: int, as_of: date) -> str | None:
    """Why the snapshot tables cannot be dated at the as-of date, or None when they can.

    A Detention sheet of an earlier year than the file (``Detention EOFY2020`` alone in an FY21 file) holds
    that year's figures: its monthly and year-to-date counts keep their own periods, but its "currently
    detained" count is of some day near that year's end, not of the file's as-of date. A year-end edition
    is pulled within weeks of 30 Sep (FY19 and FY24 on 7 Oct); an as-of date past the following 31 Dec
    means the sheet was not pulled with the file's date either."""
    name_fy = name_fiscal_year(path)
    if name_fy is not None and name_fy > fiscal_year:
        return f"the Detention sheet is FY{fiscal_year}'s in an FY{name_fy % 100:02d} file"
    if as_of > date(fiscal_year, 12, 31):
        return f"the as-of date {as_of} is more than a quarter after FY{fiscal_year} ended"
    return None


def read_other_sheets(ctx: ParseContext, path: Path, workbook: Workbook, choice: SheetChoice,
                      sheet_xml_paths: dict[str, str], report: TableReport) -> None:
    """Read the tables of every other sheet the edition has (ATD, ICLOS, bonds, semiannual, vulnerable and
    special populations, segregation): each sheet's tables are optional, an absent one is only not in the
    layout."""
    for role, sheet in choice.others.items():
        if not TABLES_BY_ROLE[role]:
            continue
        loader = GRID_LOADERS.get(role)
        if loader is None:
            check_cached_values(path, sheet_xml_paths, [sheet.name])
            grid = workbook.grid(sheet.name)
        else:
            grid = loader(path, workbook, sheet.name)
        read_sheet_tables(ctx, grid, TABLES_BY_ROLE[role], report)


_NAME_DATE = re.compile(r"\d{6,8}")


def workbook_layout(path: Path, sheet_names: list[str], fiscal_year: int) -> dict:
    """The workbook-wide part of the layout: the file-name pattern (dates replaced), the sheet names and the
    fiscal year the edition was read as."""
    name = re.sub(r"^\d{14}-", "", path.name)  # web-archive capture prefix: not ICE's naming
    return {"file_name": _NAME_DATE.sub("<date>", name), "sheets": [n.strip() for n in sheet_names],
            "fiscal_year": fiscal_year}


__all__ = ["looks_like_workbook", "parse_workbook", "parse_with"]
