"""Reader for ICE ERO "Detention Statistics" workbooks (``FYnn_detentionStats*.xlsx``).

ICE's Enforcement and Removal Operations publishes one workbook roughly every two weeks on its "Detention
Management" page (https://www.ice.gov/detain/detention-management). Each is cumulative for one fiscal year
(FY = 1 Oct - 30 Sep) and ICE revises earlier months until the year is locked, so every figure is tied to
its edition (file name, sha256, as-of date). Tables move between rows from edition to edition and their
titles drift, so each table is located by its title text and read until the first blank row; no cell address
is fixed.

Only two sheets are loaded: ``Detention ...`` (the national tables) and ``Facilities ...`` (one row per
facility). The ``Monthly Segregation`` sheet, which reports 16,383 columns since June 2025, is never
touched.

Measures emitted (blank cells are skipped, never read as zero; months starting after the as-of date are
not emitted, because ICE fills future months with 0):

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
facility_adp                       fytd                  facility, aor, facility_type, state, breakdown,
                                                         category (+ gender, criminality for the
                                                         gender_criminality breakdown)
facility_alos                      fytd                  facility, aor, facility_type, state
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
:mod:`.tables` (finding a table by its title), :mod:`.national` and :mod:`.facilities` (the table readers),
:mod:`.observations` (periods and notes of the emitted rows), :mod:`.labels` (vocabularies).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from icetrack.domain.edition import ParsedSource, SourceError, observations_table
from icetrack.domain.plausible import DEFAULT_POLICY, EARLIEST_WORKBOOK_DATE, IngestPolicy, date_problem
from icetrack.sources.ice_detention.edition import edition_info, find_as_of, fiscal_year_of
from icetrack.sources.ice_detention.facilities import read_facilities
from icetrack.sources.ice_detention.national import (
    OPTIONAL_TABLES,
    read_book_ins,
    read_currently_detained,
    read_removals,
)
from icetrack.sources.ice_detention.observations import ParseContext
from icetrack.sources.ice_detention.tables import REQUIRED_TABLES, locate_table
from icetrack.sources.ice_detention.workbook import (
    FastexcelWorkbook,
    Workbook,
    check_cached_values,
    check_container,
    find_sheet,
)


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
    detention_sheet = find_sheet(workbook.sheet_names, "detention")
    if detention_sheet is None:
        raise SourceError(path, "required table 'ICE Currently Detained by Criminality and Arresting Agency' "
                                "not found: the workbook has no 'Detention ...' sheet", where="workbook")
    facilities_sheet = find_sheet(workbook.sheet_names, "facilities")
    check_cached_values(path, sheet_xml_paths, [s for s in (detention_sheet, facilities_sheet) if s])

    warnings: list[str] = []
    detention = workbook.grid(detention_sheet)
    facilities = workbook.grid(facilities_sheet) if facilities_sheet else None
    if facilities is None:
        warnings.append("no 'Facilities ...' sheet: facility_adp and facility_alos not emitted")
    as_of = find_as_of(path, workbook, [g for g in (facilities, detention) if g is not None])

    required = {name: locate_table(detention, pattern) for name, pattern in REQUIRED_TABLES.items()}
    for name, table in required.items():
        if table is None:
            raise SourceError(path, f"required table '{name}' not found (title renamed or missing)",
                              where=f"{detention_sheet.strip()} / {name}")
    book_ins = required["ICE Initial Book-Ins by Arresting Agency and Month"]
    fiscal_year = fiscal_year_of(path, book_ins, detention_sheet, warnings)
    edition = edition_info(path, fiscal_year, as_of)
    ctx = ParseContext(path=path, fiscal_year=fiscal_year, as_of=as_of, source_url=edition.original_url or "",
                       warnings=warnings, policy=policy)
    # An as-of date after today would make this edition "the latest" and let ICE's pre-filled zeros for the
    # months to come in as reported figures.
    problem = date_problem(as_of, "as-of date", earliest=EARLIEST_WORKBOOK_DATE)
    if problem:
        ctx.implausible("workbook", problem)
    if as_of < ctx.fy_start:
        warnings.append(f"as-of date {as_of} is before the start of FY{fiscal_year}")

    read_currently_detained(ctx, required["ICE Currently Detained by Criminality and Arresting Agency"])
    read_book_ins(ctx, book_ins)
    read_removals(ctx, required["ICE Removals: FYxx"])
    for name, pattern, read in OPTIONAL_TABLES:
        table = locate_table(detention, pattern)
        if table is None:
            warnings.append(f"optional table not found on sheet '{detention_sheet.strip()}': {name}")
        else:
            read(ctx, table)
    if facilities is not None:
        read_facilities(ctx, facilities)
    for where, count in ctx.future_values.items():
        warnings.append(f"{where}: {count} non-zero values in months starting after the as-of date {as_of} "
                        "not emitted (this table was evidently pulled later than the Facilities sheet's date)")
    if ctx.overrides:
        shown = ctx.overrides[:10]
        more = f"; and {len(ctx.overrides) - len(shown)} more" if len(ctx.overrides) > len(shown) else ""
        edition = replace(edition, overrides=(f"allow_implausible: {'; '.join(shown)}{more}",))
    return ParsedSource(edition=edition, observations=observations_table(ctx.rows), warnings=warnings)


__all__ = ["looks_like_workbook", "parse_workbook", "parse_with"]
