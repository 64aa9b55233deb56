"""Reader for older ICE ERO-LESA person-level exports (Seattle area, via the UW Center for Human Rights).

Records are already-anonymized public FOIA releases, used only for aggregate statistics; nothing here
identifies, locates or profiles a person. The exports carry no person identifier (``unique_identifier`` is
null) and ICE redacted the event number and date of birth in every row.

Layout (``aor-seattle/import/frozen/*.csv.gz`` in https://github.com/UWCHR/ice-enforce): pipe-delimited,
gzipped, with a title block above the header - 6 lines in the 'UW v. DHS - ICE Productions' files (header on
line 7), 5 in the CAP files (header on line 6). The header is found by content (the first line within the
first 20 whose cells are mostly known column names), never by a fixed line number. The table comes from the
title line just above the header:

=========================================  =================  ==========================================
title contains                             table              notes
=========================================  =================  ==========================================
"Expedited Removals"                       removals           removal_type 'expedited'
"Other ICE Removals"                       removals           removal_type 'other'
"Removals" (Criminal Alien Program files)  removals           removal_type 'cap'; no departure date is
                                                              published: departed_date is null and
                                                              'Arrest Date' (the earlier arrest) goes to
                                                              apprehension_date
"Initial Book Ins"                         detention_stints   'Book In Date' -> book_in_date_time
"Administrative Arrests"                   arrests
"Encounters"                               encounters         CAP encounters carry no date: event_date null
=========================================  =================  ==========================================

Columns map through ``data/ddp_crosswalk.csv`` ('Arrest Date' -> apprehension_date, 'Country of
Citizenship' -> citizenship_country, 'Arrest Method' -> apprehension_method, ...); columns without a
canonical home ('Event Number', 'Operation', 'Removal Case COL') are kept as text in ``extra`` and listed in
``report.unknown_columns``; 'Date of Birth' is never loaded (it is redacted in every row, and counted).
Dates are ``M/D/YYYY``, unpadded. Redaction markers vary (``(b)(6),(b)(7)c)``, ``(b)(7)e)``, ``(b)(7)(E )``,
``(b)(6),(b)(7)(c )``): any ``(b)(n)`` form makes the cell null and is counted in ``report.redacted``.

The file is streamed (``gzip`` text lines -> ``csv`` -> record batches of ``chunk_rows``); ``source_row`` is
the line number in the decompressed file. A truncated gzip stream (which may only show at its end) or a
byte that is not UTF-8 (named by line and byte offset) raises :class:`SourceError`; the load is
transactional, so failing after some batches were yielded is safe. ``cutoff`` is the end date printed in the
title ("(01/01/2012 - 07/06/2019)" -> 2019-07-06; "through 04/27/2018" -> 2018-04-27), None when the title
gives none (the full-year FY2017 CAP files).
"""

from __future__ import annotations

import csv
import gzip
import re
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from icetrack.domain.edition import SourceError
from icetrack.domain.person_schema import EVENT_DATE, PersonRelease, ReaderReport
from icetrack.sources.canonical.crosswalk import Crosswalk, load_crosswalk
from icetrack.sources.canonical.plan import Plan, Sink
from icetrack.sources.canonical.release import is_gzip, person_edition, title_cutoff
from icetrack.sources.files import bounded_lines, check_file

SOURCE = "ice_ero_lesa"
PUBLISHER = ("U.S. Immigration and Customs Enforcement, ERO-LESA Statistical Tracking Unit "
             "(FOIA release, via UW Center for Human Rights)")
URL = "https://github.com/UWCHR/ice-enforce"
HEAD_LINES = 20  # the header must be within these lines
DELIMITER = "|"

# Criminal Alien Program files (the FY2018 titles misspell it 'Criminal Area Program')
_CAP = re.compile(r"\bcriminal\s+a\w*\s+program\b|\bCAP\b", re.IGNORECASE)
_TITLE_AOR = re.compile(r"\bfor the ([A-Z][A-Za-z .]*?) (?:Area of Responsibility|AOR)\b")
AOR_COLUMN = {"arrests": "apprehension_aor", "removals": "aor", "encounters": "responsible_aor"}
_TITLE_TABLES = [
    (re.compile(r"expedited\s+removals?", re.IGNORECASE), "removals", "expedited"),
    (re.compile(r"other\s+(?:ice\s+)?removals?", re.IGNORECASE), "removals", "other"),
    (re.compile(r"\bremovals?\b", re.IGNORECASE), "removals", None),
    (re.compile(r"book[\s-]*ins?\b", re.IGNORECASE), "detention_stints", None),
    (re.compile(r"\barrests?\b", re.IGNORECASE), "arrests", None),
    (re.compile(r"\bencounters?\b", re.IGNORECASE), "encounters", None),
]


def _production_release_id(titles: list[str], cap: bool) -> str:
    """One FOIA production = one release: the UW v. DHS production (FY2012-FY2019 tables) and each CAP
    fiscal-year production are separate releases, so their overlapping records are never pooled."""
    if cap:
        fy = next((m.group(1) for t in titles for m in [re.search(r"FY ?(\d{4})", t)] if m), "unknown-fy")
        return f"uwchr-seattle-cap-fy{fy}"
    return "uwchr-seattle-uw-v-dhs"


def read_ero_lesa(path: str | Path, release_id: str | None = None, chunk_rows: int = 200_000, *,
                  crosswalk: Crosswalk | None = None) -> PersonRelease:
    """Stream one ERO-LESA export as canonical record batches (see the module doc)."""
    path = Path(path)
    check_file(path)
    crosswalk = crosswalk or load_crosswalk()
    head = []
    for lineno, text in _lines(path):
        head.append((lineno, text))
        if lineno >= HEAD_LINES:
            break
    header_line, header, titles = _find_header(path, head, crosswalk)
    table_title = titles[-1] if titles else ""
    table, removal_type = _table_from_title(path, table_title)
    cap = any(_CAP.search(t) for t in titles)
    if table == "removals" and removal_type is None and cap:
        removal_type = "cap"
    cutoff = title_cutoff(" ".join(titles))
    if release_id is None:
        release_id = _production_release_id(titles, cap)
    report = ReaderReport()
    sink = Sink(table, report)
    plan = Plan(path, table, header, crosswalk, sink, required=_required(table, cap, report), where=table)
    edition = person_edition(path, SOURCE, PUBLISHER, title=table_title or None,
                             note=" / ".join(titles[:-1]) or None, as_of=cutoff, url=URL)
    constants = _constants(plan, removal_type, table_title, report)

    def convert(arrays: list[pa.Array], rows: list[int]) -> pa.RecordBatch | None:
        return plan.convert(arrays, np.asarray(rows, np.int64), release_id=release_id,
                            edition_id=edition.edition_id, file_name=path.name, sheet=None, synthetic=False,
                            constants=constants)

    def batches() -> Iterator[tuple[str, pa.RecordBatch]]:
        for out in _stream(path, header_line, len(header), chunk_rows, convert, report, table):
            yield table, out
        sink.finish()

    return PersonRelease(edition, release_id, cutoff, batches(), report)


def _required(table: str, cap: bool, report: ReaderReport) -> tuple[str, ...]:
    """The event date, except in the CAP encounters and removals, which publish none (said in a warning)."""
    if not (cap and table in ("encounters", "removals")):
        return (EVENT_DATE[table],)
    if table == "encounters":
        report.warnings.append("encounters: the CAP export publishes no encounter date; event_date is null")
    else:
        report.warnings.append("removals: the CAP export publishes no departure date (departed_date is null); "
                               "its 'Arrest Date' is the earlier arrest, loaded as apprehension_date")
    return ()


def _constants(plan: Plan, removal_type: str | None, table_title: str, report: ReaderReport) -> dict[str, object]:
    """Canonical columns filled for every row: the removal type, and the AOR a title scopes the file to."""
    table = plan.table
    constants: dict[str, object] = {"removal_type": removal_type} if table == "removals" and removal_type else {}
    # The 'UW v. DHS' titles scope the whole file to one AOR ("... for the Seattle Area of Responsibility")
    # and print no AOR column: the AOR column of arrests / removals is filled from the title, and said so.
    aor_col = AOR_COLUMN.get(table)
    scope = _TITLE_AOR.search(table_title)
    if aor_col and scope and all(c.target != aor_col for c in plan.cols if c.kind == "canonical"):
        constants[aor_col] = f"{scope.group(1).strip()} Area of Responsibility"
        report.warnings.append(f"{table}: no AOR column; {aor_col} = {constants[aor_col]!r} for every row, from "
                               f"the title {table_title!r}")
    return constants


def _stream(path: Path, header_line: int, width: int, chunk_rows: int,
            convert: Callable[[list[pa.Array], list[int]], pa.RecordBatch | None], report: ReaderReport,
            table: str) -> Iterator[pa.RecordBatch]:
    """The records below the header, converted in batches of ``chunk_rows``; blank lines skipped and short
    rows padded (both counted in warnings), a row with extra non-blank fields refused."""
    cols: list[list[str]] = [[] for _ in range(width)]
    rows: list[int] = []
    blank = short = 0

    def flush():
        out = convert([pa.array(c, pa.string()) for c in cols], rows)
        for c in cols:
            c.clear()
        rows.clear()
        return out

    reader = csv.reader((t for _, t in _lines(path)), delimiter=DELIMITER)
    last = 0
    try:
        for rec in reader:
            start, last = last + 1, reader.line_num
            if start <= header_line:
                continue
            if not any(v.strip() for v in rec):
                blank += 1
                continue
            if len(rec) > width:
                if any(v.strip() for v in rec[width:]):
                    raise SourceError(path, f"row has {len(rec)} fields but the header has {width}",
                                      where=table, row=start)
                rec = rec[:width]
            elif len(rec) < width:
                short += 1
                rec = rec + [""] * (width - len(rec))
            for c, v in zip(cols, rec):
                c.append(v)
            rows.append(start)
            if len(rows) >= chunk_rows:
                out = flush()
                if out is not None:
                    yield out
    except csv.Error as exc:
        raise SourceError(path, f"malformed pipe-delimited record: {exc}", where=table, row=last + 1) from None
    if rows:
        out = flush()
        if out is not None:
            yield out
    if blank:
        report.warnings.append(f"{table}: {blank:,} blank line(s) skipped")
    if short:
        report.warnings.append(f"{table}: {short:,} row(s) with fewer fields than the header (padded blank)")


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of the decompressed file; gzip and UTF-8 problems become SourceError, and so do a
    line longer than MAX_LINE_BYTES and a stream longer than MAX_DECOMPRESSED_BYTES (a gzip bomb)."""
    gz = is_gzip(path)
    fh = gzip.open(path, "rb") if gz else open(path, "rb")  # noqa: SIM115 - closed in the finally below
    lineno = offset = 0
    stream = "decompressed stream" if gz else "file"
    try:
        for lineno, raw in bounded_lines(fh, path, stream=stream):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise SourceError(path, f"not UTF-8: invalid byte 0x{raw[exc.start]:02x} at byte offset "
                                        f"{offset + exc.start:,} of the {stream} (line {lineno:,})",
                                  row=lineno) from None
            if lineno == 1:
                text = text.lstrip("\ufeff")
            offset += len(raw)
            yield lineno, text
    except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
        raise SourceError(path, f"gzip stream truncated or corrupt after line {lineno:,}: "
                                f"{' '.join(str(exc).split())}") from None
    finally:
        fh.close()


def _find_header(path: Path, head: list[tuple[int, str]], crosswalk: Crosswalk):
    """(header line number, header cells, title lines above it)."""
    records = list(csv.reader([t for _, t in head], delimiter=DELIMITER))
    titles = []
    for (lineno, _), cells in zip(head, records):
        texts = [c.strip() for c in cells]
        filled = [t for t in texts if t]
        known = sum(1 for t in filled if crosswalk.is_known(t))
        if len(filled) >= 2 and known >= 2 and known * 2 >= len(filled):
            while texts and not texts[-1]:
                texts.pop()
            return lineno, texts, titles
        if filled:
            titles.append(" ".join(filled))
    raise SourceError(path, f"no recognisable header line in the first {HEAD_LINES} lines (expected ERO-LESA "
                            "column names such as 'Arrest Date' or 'Country of Citizenship' below the title)")


def _table_from_title(path: Path, title: str) -> tuple[str, str | None]:
    for rx, table, removal_type in _TITLE_TABLES:
        if rx.search(title):
            return table, removal_type
    raise SourceError(path, f"cannot tell the table from the title {title!r} (expected Administrative Arrests, "
                            "Initial Book Ins, Expedited/Other ICE Removals, Removals or Encounters)")
