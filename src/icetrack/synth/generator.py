"""SYNTHETIC person-level release, calibrated to ICE's official national aggregates.

``generate_release(out_dir, people, seed)`` writes a person-level release in the Deportation Data Project's
processed schema (``icetrack.domain.person_schema.TABLES`` minus provenance and ``extra``) for benchmarks and scale
tests of the outcome metrics (cohort funnel, time to removal, competing risks). Every synthetic person is a
random draw from aggregate distributions; nothing is derived from any real person's record. Every file says
so: parquet key-value metadata ``icetrack_synthetic=true`` and the manifest ``synthetic_release.json``.

Calibration (bundled national figures, latest vintage of each figure; a month whose edition was pulled
before the month ended is partial and is replaced by the nearest complete month):

- **Book-ins.** ICE-arrested people are arrested on a day drawn with the monthly shape of ICE-arrested initial
  book-ins (weekday factors within the month, weekends lower); ``P_BOOK_IN`` (0.80 = FY2024 ICE book-ins
  90,615 / ERO administrative arrests 113,431) of them are booked in 0-2 days later. CBP-arrested people have
  no arrest row and are booked in on a day drawn with the monthly shape of CBP book-ins. The category shares
  follow the official totals of the window, so ICE and CBP book-ins keep their official proportions.
- **Criminality.** The book-in (flow) mix per month and arresting agency comes from Little's law:
  inflow of a (agency, criminality) cell is proportional to ADP / ALOS of that cell and month. Over FY2024-25
  this reproduces the official book-out criminality mix within a few points.
- **Stay length.** Lognormal with ``STAY_SIGMA`` = 1.0; its location per (agency, criminality, book-in month)
  is fitted (fixed-point iteration on the expected book-outs, computed by convolution on a daily grid) so
  that the mean stay of the people *booked out* in a month matches the official ALOS of that month and cell.
- **In custody at the start.** People booked in during the 24 months before ``start`` and still detained at
  ``start`` are included (book-in weighted by book-ins x survival; stay drawn conditional on survival), so
  book-outs and ALOS are right from the first month.
- **Book-out reason.** Drawn from the official final book-out reason mix of the book-out month and the
  person's criminality ('Bonded Out' = Bond Set by ICE + Bond Set by IJ; the two are never added again).
  A stay still open at the cut-off has a null book-out and a null reason (censored).
- **Removals.** A removal row for each 'Release to Remove' stay (departed 0-3 days after the stay book-out),
  for ``P_REMOVED_NOT_BOOKED`` of the ICE-arrested people not booked in (1-30 days after the arrest), and for
  ``SHARE_REMOVAL_ONLY`` of the people (CBP turn-overs removed without ICE detention, no arrest row).
- **Duplicates** (so de-duplication has work): ``DUP_ARREST_RATE`` repeat arrest rows of the same person within
  24 hours (a tenth of them exact copies); ``DUP_STINT_RATE`` stint rows repeated differing only in
  ``initial_bond_set_amount`` / ``bond_posted_amount`` (the copy carries the higher amounts).

Labels: release reasons use the workbook's labels ('Release to Remove', 'Bonded Out', ...; the DDP person-level
files say 'Removed'), criminality has no numeric prefix ('Convicted Criminal', not '1 Convicted Criminal'), AORs
read 'Atlanta Area of Responsibility', and stints of CBP-arrested people have ``apprehension_method`` =
'Border Patrol' (the only way to tell them from ICE-arrested book-ins in this schema).

Attributes not in the national tables (AOR, citizenship, gender, birth year, apprehension method, case category,
conviction, ports, facilities) use the fixed, documented shares below - plausible orders of magnitude chosen
for testing, not estimates. Facilities are fictitious (``SYN...`` codes).

Deterministic: the same (people, seed, chunk_people, start, end, cutoff) and bundled figures give identical
files. People are generated in chunks (one parquet row group per chunk and table), so 10 million people fit
in a few GiB.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from icetrack.domain.json_text import strict_json
from icetrack.domain.person_schema import PROVENANCE, TABLES
from icetrack.synth.calibration import round_or_none
from icetrack.synth.parameters import (
    AGE_MAX,
    AGE_MIN,
    AGE_SCALE,
    AGE_SHAPE,
    AORS,
    BURN_IN_MONTHS,
    CASE_CATEGORIES,
    CASE_SHARES,
    CATEGORIES,
    CITIZENSHIP,
    CONVICTIONS,
    DISPOSITIONS,
    DUP_ARREST_EXACT,
    DUP_ARREST_RATE,
    DUP_STINT_RATE,
    GENDER,
    METHOD_SHARES,
    METHODS,
    P_BOND_SET_NOT_POSTED,
    P_BOOK_IN,
    P_REMOVED_NOT_BOOKED,
    SHARE_REMOVAL_ONLY,
    STAY_SIGMA,
    WEEKDAY_FACTORS,
)
from icetrack.synth.people import Plan, gen_chunk, make_plan

GENERATOR_VERSION = "1.0.0"
MANIFEST_NAME = "synthetic_release.json"
OUTPUT_TABLES = ("arrests", "detention_stints", "removals", "encounters", "detainers")
FILE_NAMES = {t: f"{t}.parquet" for t in OUTPUT_TABLES}
OMITTED_COLUMNS = {name for name, _ in PROVENANCE} | {"extra"}


def output_schema(table: str, seed: int | None = None) -> pa.Schema:
    """Canonical columns of ``table`` minus provenance and ``extra`` (what a DDP-style file carries)."""
    fields = [f for f in TABLES[table] if f.name not in OMITTED_COLUMNS]
    meta = None
    if seed is not None:
        meta = {b"icetrack_synthetic": b"true", b"icetrack_seed": str(seed).encode(),
                b"icetrack_generator_version": GENERATOR_VERSION.encode(), b"icetrack_table": table.encode()}
    return pa.schema(fields, metadata=meta)


def generate_release(out_dir: str | Path, people: int, seed: int, start: date = date(2023, 10, 1),
                     end: date = date(2025, 8, 31), cutoff: date | None = None, chunk_people: int = 1_000_000,
                     progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Write a SYNTHETIC release of ``people`` random people into ``out_dir``; returns the manifest.

    Files: ``arrests``, ``detention_stints``, ``removals``, ``encounters``, ``detainers`` (.parquet, one row
    group per chunk) and ``synthetic_release.json``. ``cutoff`` (default ``end``) is the data cut-off: nothing
    after it is in the files, and stays still open then have a null book-out. ``progress(n)`` is called with
    the number of people finished after each chunk.
    """
    if people < 1:
        raise ValueError("people must be >= 1")
    if chunk_people < 1:
        raise ValueError("chunk_people must be >= 1")
    cutoff = cutoff or end
    if not start < end:
        raise ValueError(f"start {start} must be before end {end}")
    if cutoff < start:
        raise ValueError(f"cutoff {cutoff} is before start {start}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plan = make_plan(start, end, cutoff)
    rows, counts = _write_chunks(out, plan, people, seed, chunk_people, progress)
    manifest = _manifest(plan, people, seed, chunk_people, start, end, cutoff, rows, counts)
    (out / MANIFEST_NAME).write_text(strict_json(manifest, indent=2, sort_keys=False) + "\n")
    return manifest


def _write_chunks(out: Path, plan: Plan, people: int, seed: int, chunk_people: int,
                  progress: Callable[[int], None] | None) -> tuple[dict[str, int], dict[str, int]]:
    """Generate the people chunk by chunk (one seed sequence child per chunk) and write the parquet files
    atomically; returns the rows per table and the people per category."""
    seed_entropy = int(seed) % (2 ** 64)
    n_chunks = -(-people // chunk_people)
    children = np.random.SeedSequence(seed_entropy).spawn(n_chunks)
    schemas = {t: output_schema(t, seed) for t in OUTPUT_TABLES}
    tmp = {t: out / f".{FILE_NAMES[t]}.tmp" for t in OUTPUT_TABLES}
    rows = {t: 0 for t in OUTPUT_TABLES}
    counts: dict[str, int] = {}
    writers = {t: pq.ParquetWriter(tmp[t], schemas[t], compression="zstd", compression_level=1)
               for t in OUTPUT_TABLES}
    try:
        done = 0
        for i in range(n_chunks):
            n = min(chunk_people, people - done)
            tables, c = gen_chunk(plan, np.random.default_rng(children[i]), n)
            for t in OUTPUT_TABLES:
                tab = tables[t].select(schemas[t].names).cast(schemas[t])
                writers[t].write_table(tab, row_group_size=max(tab.num_rows, 1))
                rows[t] += tab.num_rows
            for k, v in c.items():
                counts[k] = counts.get(k, 0) + v
            done += n
            del tables
            if progress:
                progress(n)
    except BaseException:
        for w in writers.values():
            w.close()
        for p in tmp.values():
            p.unlink(missing_ok=True)
        raise
    for w in writers.values():
        w.close()
    for t in OUTPUT_TABLES:
        tmp[t].replace(out / FILE_NAMES[t])
    return rows, counts


def _manifest(plan: Plan, people: int, seed: int, chunk_people: int, start: date, end: date, cutoff: date,
              rows: dict[str, int], counts: dict[str, int]) -> dict[str, Any]:
    """What ``synthetic_release.json`` says: the release, its parameters and its calibration."""
    cal = plan.cal
    si = cal.start_index
    manifest = {
        "synthetic": True,
        "description": "SYNTHETIC person-level release: random people drawn from distributions calibrated to "
                       "ICE's national detention statistics. No record describes a real person. For "
                       "benchmarks and scale tests only.",
        "generator": "icetrack.synth.generator",
        "generator_version": GENERATOR_VERSION,
        "schema": "Deportation Data Project processed columns (icetrack.domain.person_schema.TABLES minus provenance "
                  "and extra)",
        "seed": seed,
        "people": people,
        "chunk_people": chunk_people,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "cutoff": cutoff.isoformat(),
        "files": {t: FILE_NAMES[t] for t in OUTPUT_TABLES},
        "rows": rows,
        "people_by_category": {k: counts.get(k, 0) for k in CATEGORIES},
        "people_with_a_stay_in_data": counts.get("booked_in_and_in_data", 0),
        "scale": {
            "synthetic_people_per_national_person": round_or_none(people * plan.scale, 6),
            "national_equivalent_people": round(1 / plan.scale),
            "expected_national_by_category": {k: round(v) for k, v in plan.category_expected.items()},
            "official_adp_at_start_month": round_or_none(cal.adp[si], 1),
        },
        "parameters": {
            "p_book_in_given_ice_arrest": P_BOOK_IN,
            "book_in_delay_days": "2 * U^2 (0-2 days after the arrest)",
            "stay_distribution": f"lognormal, sigma {STAY_SIGMA}, location fitted per agency x criminality x "
                                 "book-in month to the official ALOS of book-out months",
            "burn_in_months": BURN_IN_MONTHS,
            "share_removal_only": SHARE_REMOVAL_ONLY,
            "p_removed_not_booked": P_REMOVED_NOT_BOOKED,
            "removal_not_booked_days_after_arrest": "1 + 29 * U^2 (1-30 days)",
            "removal_departure_after_book_out_days": "3 * U^3 (0-3 days)",
            "dup_arrest_rate": DUP_ARREST_RATE,
            "dup_arrest_exact_share": DUP_ARREST_EXACT,
            "dup_stint_rate": DUP_STINT_RATE,
            "p_bond_set_not_posted": P_BOND_SET_NOT_POSTED,
            "weekday_factors_mon_to_sun": list(WEEKDAY_FACTORS),
            "stints_per_stay": "1 + [u < p] + [u < 0.35 p], p = 0.6 L / (L + 20), L = stay days",
            "attribute_shares": {
                "aor_ice_arrests": {a[0]: a[2] for a in AORS},
                "aor_cbp_first_book_in": {a[0]: a[3] for a in AORS if a[3]},
                "aor_transfer_destination": {a[0]: a[4] for a in AORS},
                "citizenship": CITIZENSHIP, "gender": GENDER,
                "age_at_arrest": f"{AGE_MIN} + gamma({AGE_SHAPE}, {AGE_SCALE}), max {AGE_MAX}",
                "apprehension_method": {k: dict(zip(METHODS, v)) for k, v in METHOD_SHARES.items()},
                "processing_disposition": DISPOSITIONS,
                "case_category": {k: dict(zip(CASE_CATEGORIES, v)) for k, v in CASE_SHARES.items()},
                "most_serious_conviction (Convicted Criminal only)": CONVICTIONS,
            },
            "criminality_mix": "book-in flow mix per agency and month from Little's law (ADP / ALOS per cell)",
            "book_out_reason": "official final book-out reason mix of the book-out month and criminality",
        },
        "calibration": {
            "bundle": cal.bundle,
            "vintage_rule": "latest edition_as_of per figure (measure, month, dims); months pulled before they "
                            "ended are partial and filled from the nearest complete month",
            "inputs": cal.inputs,
            "filled_months": cal.filled_months,
            "stay_fit": plan.fit_summary,
        },
    }
    return manifest
