"""Canonical person-level tables: the contract between FOIA readers and the warehouse.

Records are already anonymized public FOIA releases (Deportation Data Project format, older ICE ERO-LESA
exports). icetrack uses them only for aggregate statistics: nothing here identifies, locates or profiles a
person, and published breakdowns suppress small cells.

Column names follow the Deportation Data Project's processed release (the reference publisher; see its
data documentation at https://deportationdata.org). Readers map every source column onto these through the
crosswalk; a source column with no canonical home is kept, as text, in the ``extra`` map and reported -
never silently dropped. Every row carries its provenance (release, edition, file, sheet, row).

Identifiers are text, always: ``unique_identifier`` is an anonymized hash, valid only within its release.

A column that looks like a direct identifier (a name, an SSN, an A-number, an address: see
``icetrack.sources.canonical.identifiers``) is never loaded, and the file is refused unless the release's
``policy`` says to drop such columns; an event date outside the plausible range is refused unless the policy
allows implausible values (then it is read as missing). What the policy let through is on the report.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa

from icetrack.domain.edition import EditionInfo, SourceError
from icetrack.domain.plausible import DEFAULT_POLICY, IngestPolicy

PROVENANCE = [
    ("release_id", pa.string()),  # one FOIA release (identifiers link only within it)
    ("edition_id", pa.string()),  # the file's edition (EditionInfo.edition_id)
    ("source_file", pa.string()),
    ("source_sheet", pa.string()),  # sheet name for xlsx, null for csv/parquet
    ("source_row", pa.int64()),  # 1-based row number in the file/sheet as a person would count it
    ("synthetic", pa.bool_()),
]
PERSON = [("unique_identifier", pa.string())]  # null when the release carries no identifier (e.g. Seattle exports)
DEMOGRAPHICS = [("citizenship_country", pa.string()), ("gender", pa.string()), ("birth_year", pa.int32())]
EXTRA = [("extra", pa.map_(pa.string(), pa.string()))]  # unmapped source columns, as printed

TS = pa.timestamp("us")

TABLES: dict[str, pa.Schema] = {
    "arrests": pa.schema(PROVENANCE + PERSON + [
        ("apprehension_date", TS),  # date and time when known (midnight when only a date is published)
        ("apprehension_aor", pa.string()),
        ("apprehension_state", pa.string()),
        ("apprehension_county", pa.string()),
        ("apprehension_method", pa.string()),
        ("apprehension_landmark", pa.string()),
        ("apprehension_criminality", pa.string()),
        ("final_program", pa.string()),
        ("processing_disposition", pa.string()),
        ("case_category", pa.string()),
        ("most_serious_conviction", pa.string()),
    ] + DEMOGRAPHICS + EXTRA),
    "detainers": pa.schema(PROVENANCE + PERSON + [
        ("detainer_prepare_date", TS),
        ("facility_aor", pa.string()),
        ("facility_state", pa.string()),
        ("detention_facility", pa.string()),
        ("detainer_type", pa.string()),
        ("detainer_prepared_criminality", pa.string()),
        ("detainer_lift_reason", pa.string()),
    ] + DEMOGRAPHICS + EXTRA),
    "encounters": pa.schema(PROVENANCE + PERSON + [
        ("event_date", TS),
        ("responsible_aor", pa.string()),
        ("event_type", pa.string()),
        ("event_landmark", pa.string()),
        ("processing_disposition", pa.string()),
        ("encounter_criminality", pa.string()),
    ] + DEMOGRAPHICS + EXTRA),
    "detention_stints": pa.schema(PROVENANCE + PERSON + [
        ("book_in_date_time", TS),
        ("detention_book_out_date_time", TS),  # null: still detained at the release's cut-off
        ("stay_book_in_date_time", TS),
        ("stay_book_out_date_time", TS),
        ("detention_facility_code", pa.string()),
        ("detention_facility", pa.string()),
        ("detention_release_reason", pa.string()),
        ("stay_release_reason", pa.string()),
        ("book_in_criminality", pa.string()),
        ("apprehension_method", pa.string()),
        ("initial_bond_set_amount", pa.float64()),
        ("bond_posted_amount", pa.float64()),
        ("bond_posted_date", TS),
        ("case_category", pa.string()),
        ("most_serious_conviction", pa.string()),
    ] + DEMOGRAPHICS + EXTRA),
    "removals": pa.schema(PROVENANCE + PERSON + [
        ("departed_date", TS),
        ("removal_type", pa.string()),  # e.g. 'expedited', 'other' where the release splits them
        ("aor", pa.string()),
        ("departure_country", pa.string()),
        ("port_of_departure", pa.string()),
        ("case_category", pa.string()),
        ("final_charge_section", pa.string()),
        ("apprehension_date", TS),  # the earlier arrest, where a release gives it
        ("most_serious_conviction", pa.string()),
    ] + DEMOGRAPHICS + EXTRA),
}

# The main event date of each table (what 'date range' and daily flows use).
EVENT_DATE = {
    "arrests": "apprehension_date",
    "detainers": "detainer_prepare_date",
    "encounters": "event_date",
    "detention_stints": "book_in_date_time",
    "removals": "departed_date",
}


@dataclass
class ReaderReport:
    """What a reader saw, filled while it streams (so it is complete once the batches are exhausted)."""

    rows: dict[str, int] = field(default_factory=dict)  # table -> rows read
    redacted: dict[str, dict[str, int]] = field(default_factory=dict)  # table -> canonical/extra column -> cells
    unknown_columns: dict[str, list[str]] = field(default_factory=dict)  # table -> source columns kept in extra
    all_redacted_or_blank: dict[str, list[str]] = field(default_factory=dict)  # table -> columns to drop from analysis
    warnings: list[str] = field(default_factory=list)
    # Source columns that look like direct identifiers -> the rule that says so ('header', 'values look like
    # SSNs', ...). Their values are never loaded; the file loads only under IngestPolicy(drop_identifiers=True).
    dropped_identifiers: dict[str, str] = field(default_factory=dict)
    # 'table.column' -> event dates outside the plausible range read as missing (allow_implausible only).
    implausible_dates: dict[str, int] = field(default_factory=dict)
    # The one-line refusal of the first such date, raised unless the policy allows implausible values.
    date_refusal: SourceError | None = None


@dataclass
class PersonRelease:
    """One file of a person-level release, streamed as canonical record batches.

    ``batches`` yields ``(table_name, RecordBatch)`` with the schema ``TABLES[table_name]`` exactly. A reader
    that meets bad input raises :class:`icetrack.domain.edition.SourceError` - possibly mid-stream; the
    warehouse load then rolls back.

    ``policy`` is read when the batches start and after each batch the reader produces (set it before
    iterating): a file with direct-identifier columns is refused before its first batch is yielded (before
    any is read, when the header gave them away) unless ``policy.drop_identifiers``; an implausible event date
    is refused unless ``policy.allow_implausible``. :meth:`check_policy` raises the same refusal on demand.
    """

    edition: EditionInfo
    release_id: str
    cutoff: date | None  # data cut-off of the release (open book-outs are censored here)
    batches: Iterator[tuple[str, pa.RecordBatch]]
    report: ReaderReport = field(default_factory=ReaderReport)
    policy: IngestPolicy = DEFAULT_POLICY

    def __post_init__(self):
        self.batches = self._screened(self.batches)

    def check_policy(self) -> None:
        """Raise the refusal of what the reader has found so far that ``policy`` does not let through."""
        rep = self.report
        if rep.dropped_identifiers and not self.policy.drop_identifiers:
            raise SourceError(self.edition.file_name, identifier_refusal(rep.dropped_identifiers))
        if rep.date_refusal is not None and not self.policy.allow_implausible:
            raise rep.date_refusal

    def _screened(self, batches: Iterator[tuple[str, pa.RecordBatch]]) -> Iterator[tuple[str, pa.RecordBatch]]:
        # A generator: nothing runs until the first batch is asked for, so the policy set after the reader
        # returned is the one applied. Readers never put a flagged column in a batch; this decides whether
        # the file may load without it.
        self.check_policy()
        for item in batches:
            self.check_policy()
            yield item
        if self.report.dropped_identifiers:
            self.report.warnings.append(
                f"{len(self.report.dropped_identifiers)} column(s) that look like direct identifiers were not "
                "loaded (--drop-identifiers): "
                + ", ".join(f"{c} ({r})" for c, r in self.report.dropped_identifiers.items()))


def identifier_refusal(columns: dict[str, str]) -> str:
    """The refusal naming the direct-identifier columns and the rule that flagged each (never a value)."""
    listed = "; ".join(f"{name}: {rule}" for name, rule in columns.items())
    return (f"refused: columns look like direct identifiers ({listed}); icetrack stores no identifying data; "
            "load without them with --drop-identifiers")



def batch_from_rows(table: str, rows: list[dict], **provenance) -> pa.RecordBatch:
    """A canonical batch from dict rows; missing columns are null, ``provenance`` fills the same fields in
    every row (e.g. release_id=..., edition_id=...). ``source_row`` defaults to the row's position + 1."""
    schema = TABLES[table]
    filled = []
    for i, r in enumerate(rows):
        row = {**provenance, "source_row": i + 1, **r}
        row.setdefault("synthetic", False)
        if isinstance(row.get("extra"), dict):
            row["extra"] = list(row["extra"].items())
        filled.append({f.name: row.get(f.name) for f in schema})
    return pa.RecordBatch.from_pylist(filled, schema=schema)
