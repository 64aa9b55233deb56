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

import functools
import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from icetrack.domain.person_schema import PROVENANCE, TABLES

GENERATOR_VERSION = "1.0.0"
MANIFEST_NAME = "synthetic_release.json"
OUTPUT_TABLES = ("arrests", "detention_stints", "removals", "encounters", "detainers")
FILE_NAMES = {t: f"{t}.parquet" for t in OUTPUT_TABLES}
OMITTED_COLUMNS = {name for name, _ in PROVENANCE} | {"extra"}

# --- model parameters (documented in the manifest) ----------------------------------------------------------
P_BOOK_IN = 0.80  # share of ICE-arrested people booked in (FY2024: 90,615 ICE book-ins / 113,431 ERO arrests)
STAY_SIGMA = 1.0  # lognormal shape of the stay length (median = mean x 0.61)
BURN_IN_MONTHS = 24  # book-ins this long before ``start`` may still be in custody at ``start``
FIT_WARMUP_MONTHS = 6  # book-out months this close to the grid start are not fitted (the grid has no earlier stays)
FIT_ITERATIONS = 40
KERNEL_DAYS = 2000  # longest stay modelled in the fit
SHARE_REMOVAL_ONLY = 0.02  # people removed without ICE detention (CBP turn-overs), no arrest row
P_REMOVED_NOT_BOOKED = 0.10  # ICE-arrested, not booked in, removed 1-30 days after arrest
DUP_ARREST_RATE = 0.01  # repeat arrest rows (same person, within 24 hours) per arrest row
DUP_ARREST_EXACT = 0.10  # share of those repeats that are exact copies
DUP_STINT_RATE = 0.005  # stint rows repeated, differing only in bond amounts
P_BOND_SET_NOT_POSTED = 0.08  # stays not bonded out whose last stint carries a bond set but not posted
CAP_DETAINER = 0.85  # share of CAP / 287(g) arrests preceded by a detainer
# weekday factors of ICE arrests (Mon..Sun), normalised within each month
WEEKDAY_FACTORS = (1.12, 1.16, 1.16, 1.12, 1.04, 0.78, 0.62)

AGENCIES = ("ICE", "CBP")
CRIMINALITY = ("Convicted Criminal", "Pending Criminal Charges", "Other Immigration Violator")

# The 25 ERO areas of responsibility: (name, code, share of ICE arrests, share of CBP-arrested first book-ins,
# share of transfer destinations, states with the first one most likely). Chosen shares, not estimates.
AORS = [
    ("Atlanta", "ATL", 0.075, 0.00, 0.07, ("GEORGIA", "NORTH CAROLINA", "SOUTH CAROLINA")),
    ("Baltimore", "BAL", 0.020, 0.00, 0.01, ("MARYLAND",)),
    ("Boston", "BOS", 0.030, 0.00, 0.01, ("MASSACHUSETTS", "CONNECTICUT", "RHODE ISLAND", "NEW HAMPSHIRE",
                                          "MAINE", "VERMONT")),
    ("Buffalo", "BUF", 0.015, 0.01, 0.02, ("NEW YORK",)),
    ("Chicago", "CHI", 0.045, 0.00, 0.03, ("ILLINOIS", "INDIANA", "WISCONSIN", "MISSOURI", "KANSAS", "KENTUCKY")),
    ("Dallas", "DAL", 0.080, 0.03, 0.07, ("TEXAS", "OKLAHOMA")),
    ("Denver", "DEN", 0.030, 0.00, 0.02, ("COLORADO", "WYOMING")),
    ("Detroit", "DET", 0.025, 0.01, 0.02, ("MICHIGAN", "OHIO")),
    ("El Paso", "ELP", 0.035, 0.20, 0.09, ("TEXAS", "NEW MEXICO")),
    ("Harlingen", "HLG", 0.035, 0.15, 0.05, ("TEXAS",)),
    ("Houston", "HOU", 0.085, 0.07, 0.12, ("TEXAS",)),
    ("Los Angeles", "LOS", 0.045, 0.03, 0.04, ("CALIFORNIA",)),
    ("Miami", "MIA", 0.070, 0.02, 0.06, ("FLORIDA",)),
    ("New Orleans", "NOL", 0.055, 0.06, 0.17, ("LOUISIANA", "ALABAMA", "ARKANSAS", "MISSISSIPPI", "TENNESSEE")),
    ("New York City", "NYC", 0.035, 0.00, 0.01, ("NEW YORK",)),
    ("Newark", "NEW", 0.035, 0.00, 0.02, ("NEW JERSEY",)),
    ("Philadelphia", "PHI", 0.030, 0.00, 0.02, ("PENNSYLVANIA", "DELAWARE", "WEST VIRGINIA")),
    ("Phoenix", "PHO", 0.050, 0.12, 0.06, ("ARIZONA",)),
    ("Salt Lake City", "SLC", 0.030, 0.00, 0.02, ("UTAH", "NEVADA", "IDAHO", "MONTANA")),
    ("San Antonio", "SNA", 0.065, 0.14, 0.10, ("TEXAS",)),
    ("San Diego", "SND", 0.025, 0.12, 0.04, ("CALIFORNIA",)),
    ("San Francisco", "SFR", 0.025, 0.00, 0.01, ("CALIFORNIA", "HAWAII")),
    ("Seattle", "SEA", 0.025, 0.02, 0.02, ("WASHINGTON", "OREGON", "ALASKA")),
    ("St. Paul", "SPM", 0.025, 0.00, 0.01, ("MINNESOTA", "IOWA", "NEBRASKA", "NORTH DAKOTA", "SOUTH DAKOTA")),
    ("Washington", "WAS", 0.030, 0.00, 0.01, ("VIRGINIA", "DISTRICT OF COLUMBIA")),
]
FACILITIES_PER_AOR = 3
FIRST_STATE_SHARE = 0.6

CITIZENSHIP = {
    "MEXICO": 0.36, "GUATEMALA": 0.14, "HONDURAS": 0.12, "EL SALVADOR": 0.06, "VENEZUELA": 0.05,
    "COLOMBIA": 0.04, "ECUADOR": 0.04, "CUBA": 0.03, "NICARAGUA": 0.03, "DOMINICAN REPUBLIC": 0.03,
    "BRAZIL": 0.02, "HAITI": 0.02, "INDIA": 0.02, "PERU": 0.015, "CHINA, PEOPLES REPUBLIC OF": 0.015,
    "ROMANIA": 0.005, "JAMAICA": 0.01,
}
GENDER = {"Male": 0.86, "Female": 0.14}
AGE_MIN, AGE_SHAPE, AGE_SCALE, AGE_MAX = 18, 2.2, 7.0, 80  # age at arrest = 18 + gamma(2.2, 7) (mean ~33)

METHODS = ("CAP Local Incarceration", "CAP State Incarceration", "CAP Federal Incarceration", "287(g) Program",
           "Located", "Non-Custodial Arrest", "Probation and Parole", "ERO Reprocessed Arrest", "Other efforts")
CAP_METHODS = (0, 1, 2, 3)
METHOD_SHARES = {  # by criminality: criminal (convicted or pending) vs other immigration violator
    "criminal": (0.44, 0.08, 0.05, 0.08, 0.17, 0.08, 0.04, 0.03, 0.03),
    "oiv": (0.12, 0.02, 0.02, 0.05, 0.33, 0.30, 0.01, 0.08, 0.07),
}
METHOD_PROGRAM = ("ERO Criminal Alien Program",) * 4 + ("Fugitive Operations", "Non-Detained Docket Control",
                                                        "ERO Criminal Alien Program", "Detained Docket Control",
                                                        "Fugitive Operations")
METHOD_EVENT = ("CAP Local", "CAP State", "CAP Federal", "287(g) Program Activities", "Fugitive Operations (Event)",
                "Administrative Non-Criminal Individual", "ERO Criminal Alien Program",
                "ERO Criminal Alien Program", "Fugitive Operations (Lead)")
CBP_METHOD = "Border Patrol"
DISPOSITIONS = {"Warrant of Arrest/Notice to Appear": 0.55, "REINSTATEMENT OF DEPORT ORDER I-871": 0.20,
                "Other": 0.20, "Bag and Baggage": 0.03, "Prosecutorial Discretion": 0.02}
CASE_CATEGORIES = (
    "[8C] Excludable / Inadmissible - Administrative Final Order Issued", "[16] Reinstated Final Order",
    "[8B] Excludable / Inadmissible - Under Adjudication by IJ", "[2A] Deportable - Under Adjudication by IJ",
    "[8A] Excludable / Inadmissible - Hearing Not Commenced", "[3] Deportable - Administratively Final Order",
    "[8F] Expedited Removal",
)
CASE_SHARES = {"ICE": (0.25, 0.20, 0.20, 0.12, 0.10, 0.08, 0.05), "CBP": (0.20, 0.05, 0.25, 0.02, 0.08, 0.02, 0.38)}
CONVICTIONS = {
    "Driving Under Influence Liquor": 0.16, "Traffic Offense": 0.14, "Assault": 0.10, "Simple Assault": 0.06,
    "Domestic Violence": 0.06, "Dangerous Drugs": 0.12, "Illegal Entry": 0.08, "Illegal Reentry": 0.07,
    "Weapon Offense": 0.04, "Larceny": 0.05, "Burglary": 0.04, "Fraudulent Activities": 0.04,
    "Vehicle Theft": 0.02, "Cruelty Toward Child": 0.02,
}
LAND_PORTS = {"PASO DEL NORTE, TX, POE": 0.30, "SAN YSIDRO, CA, POE": 0.25, "NOGALES, AZ, POE": 0.20,
              "BROWNSVILLE-MATAMOR, TX, POE": 0.15, "EL PASO, TX, POE": 0.10}
AIR_PORTS = {"ALEXANDRIA INTERNATIONAL AIRPORT, POE": 0.45, "SAN ANTONIO INTERNATIONAL AIRPORT, POE": 0.15,
             "MIAMI INTERNATIONAL AIRPORT, POE": 0.15, "EL PASO INTERNATIONAL AIRPORT, POE": 0.15,
             "HARLINGEN-VALLEY INTERNATIONAL AIRPORT, POE": 0.10}
REMOVAL_EXPEDITED = {"ICE": 0.15, "CBP": 0.60, "removal_only": 0.80}
BOND_MEDIAN, BOND_SIGMA, BOND_STEP, BOND_MIN = 6000.0, 0.6, 500.0, 1500.0

# Book-out reasons in the workbook's labels. 'Bond Set by ICE' / 'Bond Set by IJ' are parts of 'Bonded Out'.
BOND_PARTS = ("Bond Set by ICE", "Bond Set by IJ")
REMOVAL_REASON = "Release to Remove"
BONDED_OUT = "Bonded Out"
TRANSFERRED = "Transferred"

CATEGORIES = ("ice_arrest", "cbp_book_in", "in_custody_at_start", "removal_only")


# ================================================================================================ utilities

def _erfc(x: np.ndarray) -> np.ndarray:
    """Complementary error function, fractional error < 1.2e-7 everywhere (Numerical Recipes ``erfcc``)."""
    x = np.asarray(x, dtype=float)
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223
                                                                                  + t * 0.17087277))))))))
    r = t * np.exp(poly)
    return np.where(x >= 0, r, 2.0 - r)


def _norm_cdf(x):
    return 0.5 * _erfc(-np.asarray(x, dtype=float) / math.sqrt(2.0))


def _norm_sf(x):
    return 0.5 * _erfc(np.asarray(x, dtype=float) / math.sqrt(2.0))


_ACK_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
          -3.066479806614716e+01, 2.506628277459239e+00)
_ACK_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
          -1.328068155288572e+01)
_ACK_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
          4.374664141464968e+00, 2.938163982698783e+00)
_ACK_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00)


def _norm_ppf(p: np.ndarray) -> np.ndarray:
    """Inverse standard normal CDF (Acklam, relative error < 1.2e-9) for p in (0, 1)."""
    p = np.clip(np.asarray(p, dtype=float), 1e-300, 1 - 1e-16)
    a, b, c, d = _ACK_A, _ACK_B, _ACK_C, _ACK_D
    out = np.empty_like(p)
    lo = p < 0.02425
    hi = p > 1 - 0.02425
    mid = ~(lo | hi)
    q = p[mid] - 0.5
    r = q * q
    out[mid] = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1))
    for mask, sign, pp in ((lo, 1.0, p[lo]), (hi, -1.0, 1 - p[hi])):
        q = np.sqrt(-2 * np.log(pp))
        out[mask] = sign * ((((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                            / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1))
    return out


def _cum(shares) -> np.ndarray:
    s = np.asarray(list(shares), dtype=float)
    c = np.cumsum(s / s.sum())
    c[-1] = 1.0
    return c


def _choice(rng: np.random.Generator, cum: np.ndarray, n: int) -> np.ndarray:
    return np.searchsorted(cum, rng.random(n), side="right").astype(np.int32)


def _choice_grouped(rng: np.random.Generator, cum_table: np.ndarray, group: np.ndarray) -> np.ndarray:
    """One draw per row from the categorical distribution of its group (``cum_table[group]``, cumulative)."""
    u = rng.random(len(group))
    out = np.zeros(len(group), dtype=np.int32)
    for k in range(cum_table.shape[1] - 1):  # K-1 passes over small ints; cheap and memory-light
        out += (cum_table[group, k] <= u)
    return out


def _month_starts(first: date, last: date) -> list[date]:
    out, d = [], date(first.year, first.month, 1)
    while d <= last:
        out.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def _add_months(d: date, k: int) -> date:
    m = d.year * 12 + d.month - 1 + k
    return date(m // 12, m % 12 + 1, 1)


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _hex_ids(rng: np.random.Generator, n: int) -> pa.StringArray:
    """n random 40-hex identifiers (160 random bits each) as an Arrow string array."""
    raw = rng.integers(0, 256, size=(n, 20), dtype=np.uint8)
    chars = np.empty((n, 40), dtype=np.uint8)
    chars[:, 0::2] = _HEX[raw >> 4]
    chars[:, 1::2] = _HEX[raw & 15]
    offsets = np.arange(0, 40 * (n + 1), 40, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes()))


# ================================================================================================ calibration

@dataclass
class Calibration:
    """Official figures on a monthly grid (``months``), latest vintage, partial months filled."""

    months: list[date]
    start_index: int  # index of the month of ``start``
    book_ins: dict[str, np.ndarray]  # agency -> per month
    mix: dict[str, np.ndarray]  # agency -> (month, criminality) book-in (flow) shares
    alos: dict[str, np.ndarray]  # agency -> (month, criminality) official ALOS, NaN where missing
    alos_total: np.ndarray  # per month, agency Total x criminality Total
    reasons: list[str]
    reason_mix: np.ndarray  # (month, criminality, reason) shares of final book-outs
    removal_share: np.ndarray  # per month: Release to Remove / Total final book-outs (criminality Total)
    book_outs: np.ndarray  # per month: Total final book-outs
    book_out_criminality: np.ndarray  # (month, criminality) shares of final book-outs
    adp: np.ndarray  # per month, agency Total x criminality Total
    official_months: dict[str, list[str]]  # measure -> months (ISO) with an official complete figure
    filled_months: dict[str, list[str]]  # measure -> months filled from the nearest complete month
    inputs: list[dict[str, Any]]  # editions used, per measure
    bundle: dict[str, Any]


def _bundle_path() -> Path:
    from icetrack.sources.ice_detention_bundle import bundle_path

    return bundle_path()


def _query_latest(path: Path, first: date, last: date) -> list[tuple]:
    """Monthly figures of the calibration measures in [first, last]: the latest vintage of each figure
    (measure, month, dims): latest ``edition_as_of``, then latest publication, then file name."""
    import pyarrow.compute as pc

    t = pq.ParquetFile(path).read(columns=[
        "measure", "period_start", "period_end", "grain", "dims", "dims_key", "value", "edition_file_name",
        "edition_sha256", "edition_as_of", "edition_published_on", "edition_note"])
    keep = pc.and_(pc.equal(t["grain"], "month"),
                   pc.is_in(t["measure"], pa.array(["book_ins", "book_outs", "alos", "adp"])))
    keep = pc.and_(keep, pc.and_(pc.greater_equal(t["period_start"], pa.scalar(first, pa.date32())),
                                 pc.less_equal(t["period_start"], pa.scalar(last, pa.date32()))))
    t = t.filter(keep)
    best: dict[tuple, tuple] = {}
    for r in t.to_pylist():
        key = (r["measure"], r["period_start"], r["period_end"], r["dims_key"])
        rank = (r["edition_as_of"] or date.min, r["edition_published_on"] or date.min, r["edition_file_name"] or "")
        if key not in best or rank > best[key][0]:
            best[key] = (rank, r)
    out = []
    for key in sorted(best, key=lambda k: (k[0], k[1], k[3])):
        r = best[key][1]
        dims = dict(r["dims"] or [])
        out.append((r["measure"], r["period_start"], r["period_end"], dims.get("agency"), dims.get("criminality"),
                    dims.get("release_reason"), r["value"], r["edition_file_name"], r["edition_sha256"],
                    r["edition_as_of"], r["edition_published_on"], r["edition_note"]))
    return out


def _fill(values: np.ndarray, have: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fill rows (axis 0) without a complete official figure from the nearest month that has one."""
    idx = np.flatnonzero(have)
    if len(idx) == 0:
        raise ValueError("no complete official month in range")
    filled = values.copy()
    missing = np.flatnonzero(~have)
    for i in missing:
        j = idx[np.argmin(np.abs(idx - i) * 2 + (idx > i))]  # nearest, earlier month on ties
        filled[i] = values[j]
    return filled, missing


@functools.lru_cache(maxsize=8)
def load_calibration(start: date = date(2023, 10, 1), end: date = date(2025, 8, 31),
                     path: str | None = None) -> Calibration:
    path = Path(path) if path else _bundle_path()
    first = _add_months(date(start.year, start.month, 1), -BURN_IN_MONTHS)
    months = _month_starts(first, end)
    mi = {m: i for i, m in enumerate(months)}
    M, C = len(months), len(CRIMINALITY)
    ci = {c: i for i, c in enumerate(CRIMINALITY)}
    rows = _query_latest(path, first, months[-1])

    book_ins = {a: np.zeros(M) for a in AGENCIES}
    have_bi = {a: np.zeros(M, bool) for a in AGENCIES}
    adp = {a: np.full((M, C), np.nan) for a in AGENCIES}
    alos = {a: np.full((M, C), np.nan) for a in AGENCIES}
    alos_total, adp_total = np.full(M, np.nan), np.full(M, np.nan)
    reason_names: list[str] = []
    bo: dict[tuple[int, str, str], float] = {}
    editions: dict[tuple[str, str], dict[str, Any]] = {}
    for (measure, ps, pe, agency, crim, reason, value, fname, sha, as_of, pub, note) in rows:
        if value is None or ps not in mi:
            continue
        if as_of is not None and as_of < pe:  # pulled before the month ended: partial
            continue
        m = mi[ps]
        key = (measure, fname)
        e = editions.setdefault(key, {"measure": measure, "edition_file_name": fname, "edition_sha256": sha,
                                      "edition_as_of": str(as_of) if as_of else None,
                                      "edition_published_on": str(pub) if pub else None,
                                      "edition_note": note, "months": set(), "figures": 0})
        e["months"].add(ps.isoformat()[:7])
        e["figures"] += 1
        if measure == "book_ins" and agency in book_ins:
            book_ins[agency][m] = value
            have_bi[agency][m] = True
        elif measure in ("adp", "alos"):
            if agency == "Total" and crim == "Total":
                (adp_total if measure == "adp" else alos_total)[m] = value
            elif agency in AGENCIES and crim in ci:
                (adp if measure == "adp" else alos)[agency][m, ci[crim]] = value
        elif measure == "book_outs" and reason and crim:
            bo[(m, crim, reason)] = value
            if reason not in ("Total", *BOND_PARTS) and reason not in reason_names:
                reason_names.append(reason)

    official: dict[str, list[str]] = {}
    filled_log: dict[str, list[str]] = {}

    def iso(ix):
        return [months[i].isoformat()[:7] for i in ix]

    for a in AGENCIES:
        official[f"book_ins.{a}"] = iso(np.flatnonzero(have_bi[a]))
        book_ins[a], miss = _fill(book_ins[a], have_bi[a])
        filled_log[f"book_ins.{a}"] = iso(miss)

    # Book-in criminality mix per agency and month: Little's law, inflow ~ ADP / ALOS of the cell.
    mix = {}
    for a in AGENCIES:
        with np.errstate(invalid="ignore", divide="ignore"):
            flow = adp[a] / alos[a]
        ok = np.all(np.isfinite(flow) & (flow >= 0), axis=1) & (np.nansum(flow, axis=1) > 0)
        shares = np.where(ok[:, None], flow / np.where(ok, flow.sum(axis=1), 1)[:, None], 0)
        mix[a], miss = _fill(shares, ok)
        filled_log[f"criminality_mix.{a}"] = iso(miss)
        official[f"alos.{a}"] = iso(np.flatnonzero(np.all(np.isfinite(alos[a]) & (alos[a] > 0), axis=1)))

    # Book-out reasons by month and criminality (Bonded Out already includes the two bond parts).
    reason_names.sort(key=lambda r: (r != REMOVAL_REASON, r))
    R = len(reason_names)
    rmix = np.zeros((M, C, R))
    total_mix = np.zeros((M, R))
    removal_share = np.full(M, np.nan)
    bo_total = np.full(M, np.nan)
    bo_crim = np.full((M, C), np.nan)
    have_r = np.zeros(M, bool)
    for m in range(M):
        t = np.array([bo.get((m, "Total", r), 0.0) for r in reason_names])
        if t.sum() > 0:
            total_mix[m] = t / t.sum()
            have_r[m] = True
            tot = bo.get((m, "Total", "Total"), t.sum())
            bo_total[m] = tot
            removal_share[m] = bo.get((m, "Total", REMOVAL_REASON), 0.0) / tot
        for c in CRIMINALITY:
            v = np.array([bo.get((m, c, r), 0.0) for r in reason_names])
            if v.sum() > 0:
                rmix[m, ci[c]] = v / v.sum()
                bo_crim[m, ci[c]] = v.sum()
            elif t.sum() > 0:
                rmix[m, ci[c]] = total_mix[m]
    bo_crim = bo_crim / np.nansum(bo_crim, axis=1, keepdims=True)
    official["book_outs"] = iso(np.flatnonzero(have_r))
    if have_r.any():
        rmix, miss = _fill(rmix, have_r)
        filled_log["book_outs"] = iso(miss)
    else:
        raise ValueError(f"{path}: no book-out reasons in {months[0]}..{months[-1]}")

    inputs = []
    for e in sorted(editions.values(), key=lambda e: (e["measure"], e["edition_as_of"] or "", e["edition_file_name"])):
        ms = sorted(e.pop("months"))
        e["months_first"], e["months_last"], e["n_months"] = ms[0], ms[-1], len(ms)
        inputs.append(e)
    bundle = {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    return Calibration(
        months=months, start_index=mi[date(start.year, start.month, 1)], book_ins=book_ins, mix=mix, alos=alos,
        alos_total=alos_total, reasons=reason_names, reason_mix=rmix, removal_share=removal_share,
        book_outs=bo_total, book_out_criminality=bo_crim, adp=adp_total, official_months=official,
        filled_months={k: v for k, v in filled_log.items() if v}, inputs=inputs, bundle=bundle)


# ================================================================================================ stay model

@dataclass
class StayModel:
    """Lognormal stay length per (agency, criminality, book-in month): location ``mu``, shape STAY_SIGMA."""

    mu: dict[str, np.ndarray]  # agency -> (month, criminality)
    fit: dict[str, Any] = field(default_factory=dict)


def fit_stay_model(cal: Calibration, sigma: float = STAY_SIGMA, iterations: int = FIT_ITERATIONS) -> StayModel:
    """Fit the lognormal location per (agency, criminality, book-in month) to the official ALOS.

    Expected book-outs are computed on a daily grid: a book-in month with constant daily rate, convolved with the
    stay kernel, gives book-outs (and their summed stay lengths) per book-out month; the model ALOS of a book-out
    month is their ratio. Each iteration moves a book-in month's location by the (exit-weighted) log ratio of
    official to model ALOS over the book-out months its stays end in. Book-out months in the first
    ``FIT_WARMUP_MONTHS`` of the grid are not fitted (their earlier stays are outside the grid).
    """
    M = len(cal.months)
    ndays = np.array([((_add_months(m, 1)) - m).days for m in cal.months])
    day0 = np.concatenate([[0], np.cumsum(ndays)])  # first grid day of each month
    K = KERNEL_DAYS
    J = K + ndays.max()  # book-out offsets from the first day of the book-in month
    days = day0[:M, None] + np.arange(J)[None, :]
    om = np.minimum(np.searchsorted(day0, days, side="right") - 1, M)  # out-month index, M = beyond the grid
    flat = (np.arange(M)[:, None] * (M + 1) + om).ravel()
    edges = np.arange(K, dtype=float) + 0.5  # book-in at mid-day: offset k <=> L in [k - 0.5, k + 0.5)
    ln = np.log(edges)[None, :]
    jj = np.arange(J)[None, :]
    lag = jj - ndays[:, None]  # conv(ones(nd), p)[j] = cs[j] - cs[j - nd]

    def cum_at(cs, idx):
        out = np.take_along_axis(cs, np.clip(idx, 0, K - 1), axis=1)
        return np.where(idx < 0, 0.0, out)

    mu_all, fit = {}, {}
    for a in AGENCIES:
        mu = np.zeros((M, len(CRIMINALITY)))
        for c in range(len(CRIMINALITY)):
            obs = cal.alos[a][:, c]
            good = np.isfinite(obs) & (obs > 0)
            if good.any():
                prior, _ = _fill(np.where(good, obs, 0.0), good)
            else:
                prior = np.full(M, float(np.nanmean(cal.alos_total)))
            target = np.where(good, obs, np.nan)
            target[:FIT_WARMUP_MONTHS] = np.nan
            fitted = np.isfinite(target)
            m_mu = np.log(prior) - sigma * sigma / 2
            rate = (cal.book_ins[a] * cal.mix[a][:, c] / ndays)[:, None]  # book-ins per day
            model_alos = np.full(M, np.nan)
            for _ in range(iterations):
                cdf = _norm_cdf((ln - m_mu[:, None]) / sigma)  # (M, K) CDF of L at the bin edges
                pe = np.exp(m_mu + sigma * sigma / 2)[:, None] * _norm_cdf((ln - m_mu[:, None] - sigma * sigma) / sigma)
                e = rate * (cum_at(cdf, jj) - cum_at(cdf, lag))
                s = rate * (cum_at(pe, jj) - cum_at(pe, lag))
                exits = np.bincount(flat, weights=e.ravel(), minlength=M * (M + 1)).reshape(M, M + 1)[:, :M]
                lsum = np.bincount(flat, weights=s.ravel(), minlength=M * (M + 1)).reshape(M, M + 1)[:, :M]
                with np.errstate(invalid="ignore", divide="ignore"):
                    model_alos = lsum.sum(axis=0) / exits.sum(axis=0)
                    ratio = np.where(fitted, target / model_alos, 1.0)
                w = exits * fitted[None, :]
                ws = w.sum(axis=1)
                upd = np.where(ws > 0, (w * np.nan_to_num(ratio, nan=1.0)[None, :]).sum(axis=1)
                               / np.where(ws > 0, ws, 1), 1.0)
                m_mu = m_mu + 0.8 * np.log(np.clip(upd, 0.5, 2.0))
            mu[:, c] = m_mu
            err = (model_alos - target) / target
            fit[f"{a}|{CRIMINALITY[c]}"] = {
                "months_fitted": int(fitted.sum()),
                "max_abs_rel_error": _round(np.nanmax(np.abs(err[fitted]))) if fitted.any() else None,
                "median_abs_rel_error": _round(np.nanmedian(np.abs(err[fitted]))) if fitted.any() else None,
            }
        mu_all[a] = mu
    return StayModel(mu=mu_all, fit=fit)


# ================================================================================================ generator

@dataclass
class _Plan:
    """Everything a chunk needs, computed once per release."""

    cal: Calibration
    stays: StayModel
    M0: date  # grid origin (day 0)
    start_day: int
    window_end_day: int  # last day (inclusive) of arrests / book-ins
    cutoff_sec: int  # last second in the data
    month_of_day: np.ndarray  # grid day -> month index (clipped to the grid)
    category_cum: np.ndarray
    category_expected: dict[str, float]
    ice_day_cum: np.ndarray
    cbp_day_cum: np.ndarray
    removal_day_cum: np.ndarray
    carry_cum: np.ndarray  # over (agency, criminality, pre-start day) flattened
    carry_index: np.ndarray  # (n, 3): agency, criminality, day
    scale: float  # synthetic people per national-equivalent person
    fit_summary: dict[str, Any]
    weekday_factors: tuple[float, ...]


def _month_grid(cal: Calibration):
    ndays = np.array([((_add_months(m, 1)) - m).days for m in cal.months])
    return ndays, np.concatenate([[0], np.cumsum(ndays)])


def _plan(start: date, end: date, cutoff: date) -> _Plan:
    cal = load_calibration(start, end)
    stays = _fitted_stays(start, end)
    M0 = cal.months[0]
    ndays, day0 = _month_grid(cal)
    M = len(cal.months)
    window_end = min(end, cutoff)
    start_day, wend_day = (start - M0).days, (window_end - M0).days
    cutoff_sec = ((cutoff - M0).days + 1) * 86400 - 1
    n_grid = day0[-1] + 4000
    month_of_day = np.minimum(np.searchsorted(day0, np.arange(n_grid), side="right") - 1, M - 1)
    days = np.arange(start_day, wend_day + 1)
    md = month_of_day[days]
    weekday = np.array([(M0 + timedelta(days=int(d))).weekday() for d in days[:7]])
    wf = np.array(WEEKDAY_FACTORS)[np.resize(weekday, len(days))]
    # ICE arrests: monthly book-in shape, weekday factors normalised within each month
    wf_month_sum = np.bincount(md, weights=wf, minlength=M)
    ice_w = cal.book_ins["ICE"][md] * wf / wf_month_sum[md]
    cbp_w = cal.book_ins["CBP"][md] / ndays[md]
    rem_w = np.nan_to_num(cal.removal_share * cal.book_outs)[md] / ndays[md]
    if rem_w.sum() <= 0:
        rem_w = np.ones(len(days))
    # in custody at start: pre-start book-ins x survival to the start
    carry_w, carry_ix = [], []
    pre = np.arange(0, start_day)
    for ai, a in enumerate(AGENCIES):
        for c in range(len(CRIMINALITY)):
            m = month_of_day[pre]
            rate = cal.book_ins[a][m] * cal.mix[a][m, c] / ndays[m]
            mu = stays.mu[a][m, c]
            surv = _norm_sf((np.log(start_day - pre - 0.5) - mu) / STAY_SIGMA)
            carry_w.append(rate * surv)
            carry_ix.append(np.column_stack([np.full(len(pre), ai), np.full(len(pre), c), pre]))
    carry_w = np.concatenate(carry_w) if carry_w else np.zeros(0)
    carry_ix = np.concatenate(carry_ix) if carry_ix else np.zeros((0, 3), int)
    expected = {
        "ice_arrest": ice_w.sum() / P_BOOK_IN,
        "cbp_book_in": cbp_w.sum(),
        "in_custody_at_start": float(carry_w.sum()),
    }
    base = sum(expected.values())
    expected["removal_only"] = base * SHARE_REMOVAL_ONLY / (1 - SHARE_REMOVAL_ONLY)
    total = sum(expected.values())
    cat_cum = _cum([expected[k] for k in CATEGORIES])
    fit_summary = dict(stays.fit)
    return _Plan(
        cal=cal, stays=stays, M0=M0, start_day=start_day, window_end_day=wend_day, cutoff_sec=cutoff_sec,
        month_of_day=month_of_day, category_cum=cat_cum, category_expected={k: float(v) for k, v in expected.items()},
        ice_day_cum=_cum(ice_w), cbp_day_cum=_cum(cbp_w), removal_day_cum=_cum(rem_w),
        carry_cum=_cum(carry_w) if carry_w.sum() > 0 else np.array([1.0]), carry_index=carry_ix,
        scale=1.0 / total, fit_summary=fit_summary, weekday_factors=WEEKDAY_FACTORS)


@functools.lru_cache(maxsize=8)
def _fitted_stays(start: date, end: date) -> StayModel:
    return fit_stay_model(load_calibration(start, end))


_AOR_NAMES = [f"{name} Area of Responsibility" for name, *_ in AORS]
_AOR_ICE = _cum([a[2] for a in AORS])
_AOR_CBP = _cum([a[3] for a in AORS])
_AOR_TRANSFER = _cum([a[4] for a in AORS])
_STATES = sorted({s for a in AORS for s in a[5]})
_STATE_IX = {s: i for i, s in enumerate(_STATES)}
_MAXST = max(len(a[5]) for a in AORS)
_AOR_STATE_CUM = np.ones((len(AORS), _MAXST))
_AOR_STATE_ID = np.zeros((len(AORS), _MAXST), dtype=np.int32)
for _i, _a in enumerate(AORS):
    _n = len(_a[5])
    _sh = [1.0] if _n == 1 else [FIRST_STATE_SHARE] + [(1 - FIRST_STATE_SHARE) / (_n - 1)] * (_n - 1)
    _AOR_STATE_CUM[_i, :_n] = _cum(_sh)
    _AOR_STATE_ID[_i, :_n] = [_STATE_IX[s] for s in _a[5]]
    _AOR_STATE_ID[_i, _n:] = _STATE_IX[_a[5][-1]]
_FAC_CODES = [f"SYN{a[1]}{k + 1}" for a in AORS for k in range(FACILITIES_PER_AOR)]
_FAC_NAMES = [f"SYNTHETIC {a[0].upper()} FACILITY {k + 1}" for a in AORS for k in range(FACILITIES_PER_AOR)]
_JAIL_NAMES = [f"SYNTHETIC {a[0].upper()} COUNTY JAIL" for a in AORS]
_CIT = list(CITIZENSHIP)
_CIT_CUM = _cum(CITIZENSHIP.values())
_GENDER = list(GENDER)
_GENDER_CUM = _cum(GENDER.values())
_METHOD_CUM = np.vstack([_cum(METHOD_SHARES["criminal"]), _cum(METHOD_SHARES["oiv"])])
_DISP = list(DISPOSITIONS)
_DISP_CUM = _cum(DISPOSITIONS.values())
_CASE_CUM = np.vstack([_cum(CASE_SHARES["ICE"]), _cum(CASE_SHARES["CBP"])])
_CONV = list(CONVICTIONS)
_CONV_CUM = _cum(CONVICTIONS.values())
_PORTS = list(LAND_PORTS) + list(AIR_PORTS)
_PORT_CUM = np.vstack([_cum(list(LAND_PORTS.values()) + [0] * len(AIR_PORTS)),
                       _cum([0] * len(LAND_PORTS) + list(AIR_PORTS.values()))])
_MEXICO = _CIT.index("MEXICO")
_CAT_ICE, _CAT_CBP, _CAT_CARRY, _CAT_REM = range(4)
_OIV = CRIMINALITY.index("Other Immigration Violator")
_CONVICTED = CRIMINALITY.index("Convicted Criminal")


def _strings(labels, idx: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    arr = pa.array(np.asarray(idx, dtype=np.int32), mask=None if valid is None else ~valid)
    return pa.array(list(labels), type=pa.string()).take(arr)


def _ts(plan: _Plan, sec: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    base = int((datetime.combine(plan.M0, datetime.min.time()) - datetime(1970, 1, 1)).total_seconds())
    us = (np.asarray(sec, dtype=np.int64) + base) * 1_000_000
    return pa.array(us, type=pa.timestamp("us"), mask=None if valid is None else ~valid)


def _f64(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.float64), type=pa.float64(), mask=None if valid is None else ~valid)


def _secs(days: np.ndarray) -> np.ndarray:
    return np.floor(np.asarray(days) * 86400.0).astype(np.int64)


def _sample_days(rng, cum: np.ndarray, first_day: int, n: int) -> np.ndarray:
    return first_day + np.searchsorted(cum, rng.random(n), side="right")


def _gen_chunk(plan: _Plan, rng: np.random.Generator, n: int) -> tuple[dict[str, pa.Table], dict[str, int]]:
    cal, M = plan.cal, len(plan.cal.months)
    mod = plan.month_of_day
    cat = _choice(rng, plan.category_cum, n)
    ids = _hex_ids(rng, n)
    cit = _choice(rng, _CIT_CUM, n)
    gender = _choice(rng, _GENDER_CUM, n)
    age = np.minimum(AGE_MIN + rng.gamma(AGE_SHAPE, AGE_SCALE, n), AGE_MAX)

    agency = np.where((cat == _CAT_ICE), 0, 1).astype(np.int32)
    crim = np.zeros(n, dtype=np.int32)
    t_event = np.zeros(n)  # ICE: arrest; CBP: book-in; carry: book-in; removal-only: departure
    # --- ICE arrests: day by the ICE book-in monthly shape and weekday pattern, business-hours time
    ice = np.flatnonzero(cat == _CAT_ICE)
    hour = np.where(rng.random(len(ice)) < 0.75, np.clip(rng.normal(10.0, 3.0, len(ice)), 0, 23.99),
                    rng.random(len(ice)) * 24)
    t_event[ice] = _sample_days(rng, plan.ice_day_cum, plan.start_day, len(ice)) + hour / 24
    # --- CBP-arrested book-ins
    cbp = np.flatnonzero(cat == _CAT_CBP)
    t_event[cbp] = _sample_days(rng, plan.cbp_day_cum, plan.start_day, len(cbp)) + rng.random(len(cbp))
    # --- removal only (CBP turn-overs removed without ICE detention)
    rem = np.flatnonzero(cat == _CAT_REM)
    t_event[rem] = _sample_days(rng, plan.removal_day_cum, plan.start_day, len(rem)) + rng.random(len(rem))
    # --- in custody at start
    car = np.flatnonzero(cat == _CAT_CARRY)
    ci = np.searchsorted(plan.carry_cum, rng.random(len(car)), side="right")
    ci = np.minimum(ci, len(plan.carry_index) - 1)
    agency[car] = plan.carry_index[ci, 0]
    crim[car] = plan.carry_index[ci, 1]
    t_event[car] = plan.carry_index[ci, 2] + rng.random(len(car))

    # criminality of in-window people: book-in (flow) mix of the agency and month
    for a_i, a in enumerate(AGENCIES):
        sel = np.concatenate([ice] if a == "ICE" else [cbp, rem])
        cum = np.cumsum(cal.mix[a], axis=1)
        cum[:, -1] = 1.0
        crim[sel] = _choice_grouped(rng, cum, mod[t_event[sel].astype(np.int64)])

    aor = np.where(agency == 0, _choice(rng, _AOR_ICE, n), _choice(rng, _AOR_CBP, n)).astype(np.int32)
    criminal_group = (crim == _OIV).astype(np.int32)
    method = _choice_grouped(rng, _METHOD_CUM, criminal_group)
    case_cat = _choice_grouped(rng, _CASE_CUM, agency)
    conviction = _choice(rng, _CONV_CUM, n)
    has_conviction = crim == _CONVICTED
    disp = _choice(rng, _DISP_CUM, n)
    state = _AOR_STATE_ID[aor, _choice_grouped(rng, _AOR_STATE_CUM, aor)]

    # --- booking and stays ------------------------------------------------------------------------
    booked = np.zeros(n, bool)
    t_in = np.full(n, np.nan)
    booked[ice] = rng.random(len(ice)) < P_BOOK_IN
    t_in[ice] = t_event[ice] + 2.0 * rng.random(len(ice)) ** 2  # 0-2 days after the arrest
    booked[cbp] = True
    t_in[cbp] = t_event[cbp]
    booked[car] = True
    t_in[car] = t_event[car]
    st = np.flatnonzero(booked)
    stin = t_in[st]
    m_in = np.minimum(stin.astype(np.int64), len(mod) - 1)
    mu = np.where(agency[st] == 0, plan.stays.mu["ICE"][mod[m_in], crim[st]], plan.stays.mu["CBP"][mod[m_in], crim[st]])
    length = np.exp(mu + STAY_SIGMA * rng.standard_normal(len(st)))
    # carried-in stays: conditional on lasting past the start (inverse CDF in the upper tail)
    is_car = cat[st] == _CAT_CARRY
    if is_car.any():
        a_min = plan.start_day - stin[is_car]
        z_a = (np.log(np.maximum(a_min, 1e-9)) - mu[is_car]) / STAY_SIGMA
        q = _norm_sf(z_a) * (1 - rng.random(int(is_car.sum())))
        z = -_norm_ppf(np.maximum(q, 1e-300))
        length[is_car] = np.maximum(np.exp(mu[is_car] + STAY_SIGMA * z), a_min + 1e-6)
    stout = stin + length
    in_sec, out_sec = _secs(stin), _secs(stout)
    stay_in_data = in_sec <= plan.cutoff_sec
    closed = out_sec <= plan.cutoff_sec
    m_out = mod[np.minimum(stout.astype(np.int64), len(mod) - 1)]
    rcum = np.cumsum(cal.reason_mix, axis=2)
    rcum[:, :, -1] = 1.0
    reason = _choice_grouped(rng, rcum.reshape(M * len(CRIMINALITY), -1), m_out * len(CRIMINALITY) + crim[st])
    removal_r = cal.reasons.index(REMOVAL_REASON) if REMOVAL_REASON in cal.reasons else -1
    bonded_r = cal.reasons.index(BONDED_OUT) if BONDED_OUT in cal.reasons else -1

    # stints: 1-3 per stay (transfers), more likely for long stays
    p_tr = 0.6 * length / (length + 20.0)
    u = rng.random(len(st))
    nst = 1 + (u < p_tr) + (u < 0.35 * p_tr)
    f = np.sort(rng.random((len(st), 2)), axis=1)
    single = rng.random(len(st))
    bounds = np.empty((len(st), 4))
    bounds[:, 0] = stin
    bounds[:, 1] = np.where(nst == 1, stout, stin + np.where(nst == 2, single, f[:, 0]) * length)
    bounds[:, 2] = np.where(nst == 3, stin + f[:, 1] * length, stout)
    bounds[:, 3] = stout
    s_rep = np.repeat(np.arange(len(st)), nst)
    first_row = np.concatenate([[0], np.cumsum(nst)[:-1]])
    pos = np.arange(len(s_rep)) - first_row[s_rep]
    k_in, k_out = _secs(bounds[s_rep, pos]), _secs(bounds[s_rep, pos + 1])
    last = pos == nst[s_rep] - 1
    keep = k_in <= plan.cutoff_sec
    # bonds on the last stint: bonded-out stays post; some others have a bond set, not posted
    bonded = reason == bonded_r
    bond_set = bonded | (rng.random(len(st)) < P_BOND_SET_NOT_POSTED)
    bond_amt = np.maximum(np.round(BOND_MEDIAN * np.exp(BOND_SIGMA * rng.standard_normal(len(st))) / BOND_STEP)
                          * BOND_STEP, BOND_MIN)
    posted = bonded & closed
    # posted on the day of release: at most a day (and half the stay) before the book-out
    bond_date = out_sec - np.minimum((out_sec - in_sec) * 0.5 * rng.random(len(st)), 86_400).astype(np.int64)
    # facilities: the first in the person's AOR, transfers to an AOR drawn from the destination shares
    fac_aor = np.where(pos == 0, aor[st][s_rep], _choice(rng, _AOR_TRANSFER, len(s_rep)))
    fac = fac_aor * FACILITIES_PER_AOR + rng.integers(0, FACILITIES_PER_AOR, len(s_rep))

    rows = keep.copy()
    k = np.flatnonzero(rows)
    ks = s_rep[k]
    stint_closed = k_out[k] <= plan.cutoff_sec
    stay_closed = closed[ks]
    has_bond = last[k] & bond_set[ks]
    has_posted = last[k] & posted[ks] & stint_closed
    # duplicates differing only in bond amounts
    dup = rng.random(len(k)) < DUP_STINT_RATE
    has_bond = has_bond | dup  # a duplicated stint has two bond records: the original gets one too
    order = np.repeat(np.arange(len(k)), 1 + dup)
    is_copy = np.zeros(len(order), bool)
    is_copy[1:] = order[1:] == order[:-1]
    bump = np.where(is_copy, BOND_STEP * rng.integers(1, 11, len(order)), 0.0)
    k2, ks2 = k[order], ks[order]
    pst = st[ks2]
    det_reason_idx = np.where(last[k2], reason[ks2], -1)
    reason_labels = list(cal.reasons) + [TRANSFERRED]
    det_reason = np.where(det_reason_idx < 0, len(cal.reasons), det_reason_idx)
    m_cbp = agency[pst] == 1
    stints = pa.table({
        "unique_identifier": ids.take(pa.array(pst)),
        "book_in_date_time": _ts(plan, k_in[k2]),
        "detention_book_out_date_time": _ts(plan, k_out[k2], stint_closed[order]),
        "stay_book_in_date_time": _ts(plan, in_sec[ks2]),
        "stay_book_out_date_time": _ts(plan, out_sec[ks2], stay_closed[order]),
        "detention_facility_code": _strings(_FAC_CODES, fac[k2]),
        "detention_facility": _strings(_FAC_NAMES, fac[k2]),
        "detention_release_reason": _strings(reason_labels, det_reason, stint_closed[order]),
        "stay_release_reason": _strings(cal.reasons, reason[ks2], stay_closed[order]),
        "book_in_criminality": _strings(CRIMINALITY, crim[pst]),
        "apprehension_method": _strings(list(METHODS) + [CBP_METHOD], np.where(m_cbp, len(METHODS), method[pst])),
        "initial_bond_set_amount": _f64(bond_amt[ks2] + bump, has_bond[order]),
        "bond_posted_amount": _f64(bond_amt[ks2] + bump, has_posted[order]),
        "bond_posted_date": _ts(plan, bond_date[ks2], has_posted[order]),
        "case_category": _strings(CASE_CATEGORIES, case_cat[pst]),
        "most_serious_conviction": _strings(_CONV, conviction[pst], has_conviction[pst]),
        **_demographics(plan, cit, gender, age, pst, t_event[pst]),
    })

    # --- arrests (ICE-arrested people), with repeat rows within 24 hours ---------------------------------
    a_sec = _secs(t_event[ice])
    a_keep = ice[a_sec <= plan.cutoff_sec]
    a_sec = _secs(t_event[a_keep])
    dupa = rng.random(len(a_keep)) < DUP_ARREST_RATE
    order = np.repeat(np.arange(len(a_keep)), 1 + dupa)
    is_copy = np.zeros(len(order), bool)
    is_copy[1:] = order[1:] == order[:-1]
    shift = np.where(is_copy & (rng.random(len(order)) >= DUP_ARREST_EXACT),
                     1 + rng.integers(0, 23 * 3600, len(order)), 0)
    ap = a_keep[order]
    a_time = np.minimum(a_sec[order] + shift, np.maximum(a_sec[order], plan.cutoff_sec))
    arrests = pa.table({
        "unique_identifier": ids.take(pa.array(ap)),
        "apprehension_date": _ts(plan, a_time),
        "apprehension_aor": _strings(_AOR_NAMES, aor[ap]),
        "apprehension_state": _strings(_STATES, state[ap]),
        "apprehension_county": pa.nulls(len(ap), pa.string()),
        "apprehension_method": _strings(METHODS, method[ap]),
        "apprehension_landmark": pa.nulls(len(ap), pa.string()),
        "apprehension_criminality": _strings(CRIMINALITY, crim[ap]),
        "final_program": _strings(METHOD_PROGRAM, method[ap]),
        "processing_disposition": _strings(_DISP, disp[ap]),
        "case_category": _strings(CASE_CATEGORIES, case_cat[ap]),
        "most_serious_conviction": _strings(_CONV, conviction[ap], has_conviction[ap]),
        **_demographics(plan, cit, gender, age, ap, t_event[ap]),
    })

    # --- removals ------------------------------------------------------------------------------------
    rr = st[(reason == removal_r) & closed]  # persons with a Release to Remove stay booked out by the cut-off
    rr_dep = _secs(stout[(reason == removal_r) & closed] + 3.0 * rng.random(len(rr)) ** 3)
    not_booked = ice[~booked[ice]]
    nb = not_booked[rng.random(len(not_booked)) < P_REMOVED_NOT_BOOKED]
    nb_dep = _secs(t_event[nb] + 1.0 + 29.0 * rng.random(len(nb)) ** 2)  # within 30 days of the arrest
    rem_dep = _secs(t_event[rem])
    rp = np.concatenate([rr, nb, rem])
    dep = np.concatenate([rr_dep, nb_dep, rem_dep])
    ok = dep <= plan.cutoff_sec
    rp, dep = rp[ok], dep[ok]
    # the earlier arrest: the ICE arrest, else a CBP apprehension 0-3 days before book-in / departure
    appr = np.where(cat[rp] == _CAT_ICE, t_event[rp],
                    np.where(cat[rp] == _CAT_REM, t_event[rp], t_in[rp]) - 3.0 * rng.random(len(rp)))
    kind = np.where(cat[rp] == _CAT_REM, 2, agency[rp])
    p_exp = np.array([REMOVAL_EXPEDITED["ICE"], REMOVAL_EXPEDITED["CBP"], REMOVAL_EXPEDITED["removal_only"]])
    expedited = rng.random(len(rp)) < p_exp[kind]
    port = _choice_grouped(rng, _PORT_CUM, (cit[rp] != _MEXICO).astype(np.int32))
    removals = pa.table({
        "unique_identifier": ids.take(pa.array(rp)),
        "departed_date": _ts(plan, dep),
        "removal_type": _strings(("other", "expedited"), expedited.astype(np.int32)),
        "aor": _strings(_AOR_NAMES, aor[rp]),
        "departure_country": _strings(_CIT, cit[rp]),
        "port_of_departure": _strings(_PORTS, port),
        "case_category": _strings(CASE_CATEGORIES, np.where(expedited, len(CASE_CATEGORIES) - 1, case_cat[rp])),
        "final_charge_section": pa.nulls(len(rp), pa.string()),
        "apprehension_date": _ts(plan, _secs(appr)),
        "most_serious_conviction": _strings(_CONV, conviction[rp], has_conviction[rp]),
        **_demographics(plan, cit, gender, age, rp, appr),
    })

    # --- encounters (every ICE arrest, 0-30 days before) and detainers (most CAP / 287(g) arrests) -----
    e_time = _secs(t_event[a_keep] - 30.0 * rng.random(len(a_keep)) ** 2)
    ep = a_keep[e_time >= plan.start_day * 86400]
    e_time = e_time[e_time >= plan.start_day * 86400]
    encounters = pa.table({
        "unique_identifier": ids.take(pa.array(ep)),
        "event_date": _ts(plan, e_time),
        "responsible_aor": _strings(_AOR_NAMES, aor[ep]),
        "event_type": _strings(METHOD_EVENT, method[ep]),
        "event_landmark": pa.nulls(len(ep), pa.string()),
        "processing_disposition": _strings(_DISP, disp[ep]),
        "encounter_criminality": _strings(CRIMINALITY, crim[ep]),
        **_demographics(plan, cit, gender, age, ep, t_event[ep]),
    })
    cap = a_keep[np.isin(method[a_keep], CAP_METHODS) & (rng.random(len(a_keep)) < CAP_DETAINER)]
    d_time = _secs(t_event[cap] - rng.gamma(1.5, 15.0, len(cap)))
    dp = cap[d_time >= plan.start_day * 86400]
    d_time = d_time[d_time >= plan.start_day * 86400]
    detainers = pa.table({
        "unique_identifier": ids.take(pa.array(dp)),
        "detainer_prepare_date": _ts(plan, d_time),
        "facility_aor": _strings(_AOR_NAMES, aor[dp]),
        "facility_state": _strings(_STATES, state[dp]),
        "detention_facility": _strings(_JAIL_NAMES, aor[dp]),
        "detainer_type": pa.nulls(len(dp), pa.string()),
        "detainer_prepared_criminality": _strings(CRIMINALITY, crim[dp]),
        "detainer_lift_reason": pa.nulls(len(dp), pa.string()),
        **_demographics(plan, cit, gender, age, dp, t_event[dp]),
    })
    counts = {c: int((cat == i).sum()) for i, c in enumerate(CATEGORIES)}
    counts["booked_in_and_in_data"] = int(stay_in_data.sum())
    return {"arrests": arrests, "detention_stints": stints, "removals": removals, "encounters": encounters,
            "detainers": detainers}, counts


def _demographics(plan: _Plan, cit, gender, age, person, t_days) -> dict[str, pa.Array]:
    year = np.asarray([plan.M0.year], dtype=np.int64)[0] + (
        (plan.M0.month - 1 + np.asarray(t_days) / 30.4375) // 12).astype(np.int64)
    return {
        "citizenship_country": _strings(_CIT, cit[person]),
        "gender": _strings(_GENDER, gender[person]),
        "birth_year": pa.array((year - np.floor(age[person])).astype(np.int32), type=pa.int32()),
    }


def output_schema(table: str, seed: int | None = None) -> pa.Schema:
    """Canonical columns of ``table`` minus provenance and ``extra`` (what a DDP-style file carries)."""
    fields = [f for f in TABLES[table] if f.name not in OMITTED_COLUMNS]
    meta = None
    if seed is not None:
        meta = {b"icetrack_synthetic": b"true", b"icetrack_seed": str(seed).encode(),
                b"icetrack_generator_version": GENERATOR_VERSION.encode(), b"icetrack_table": table.encode()}
    return pa.schema(fields, metadata=meta)


def _round(x, nd=4):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else round(float(x), nd)


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
    plan = _plan(start, end, cutoff)
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
            tables, c = _gen_chunk(plan, np.random.default_rng(children[i]), n)
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
            "synthetic_people_per_national_person": _round(people * plan.scale, 6),
            "national_equivalent_people": round(1 / plan.scale),
            "expected_national_by_category": {k: round(v) for k, v in plan.category_expected.items()},
            "official_adp_at_start_month": _round(cal.adp[si], 1),
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
    (out / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n")
    return manifest
