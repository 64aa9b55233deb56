"""Parameters of the synthetic generator: fixed, documented shares (chosen for testing, not estimates), the
attribute tables derived from them, and the sampling utilities.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pyarrow as pa

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

TRANSFERRED = "Transferred"

CATEGORIES = ("ice_arrest", "cbp_book_in", "in_custody_at_start", "removal_only")


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


def norm_cdf(x):
    return 0.5 * _erfc(-np.asarray(x, dtype=float) / math.sqrt(2.0))


def norm_sf(x):
    return 0.5 * _erfc(np.asarray(x, dtype=float) / math.sqrt(2.0))


_ACK_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
          -3.066479806614716e+01, 2.506628277459239e+00)
_ACK_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
          -1.328068155288572e+01)
_ACK_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
          4.374664141464968e+00, 2.938163982698783e+00)
_ACK_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00)


def norm_ppf(p: np.ndarray) -> np.ndarray:
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


def cumulative_shares(shares) -> np.ndarray:
    s = np.asarray(list(shares), dtype=float)
    c = np.cumsum(s / s.sum())
    c[-1] = 1.0
    return c


def choice(rng: np.random.Generator, cum: np.ndarray, n: int) -> np.ndarray:
    return np.searchsorted(cum, rng.random(n), side="right").astype(np.int32)


def choice_grouped(rng: np.random.Generator, cum_table: np.ndarray, group: np.ndarray) -> np.ndarray:
    """One draw per row from the categorical distribution of its group (``cum_table[group]``, cumulative)."""
    u = rng.random(len(group))
    out = np.zeros(len(group), dtype=np.int32)
    for k in range(cum_table.shape[1] - 1):  # K-1 passes over small ints; cheap and memory-light
        out += (cum_table[group, k] <= u)
    return out


def month_starts(first: date, last: date) -> list[date]:
    out, d = [], date(first.year, first.month, 1)
    while d <= last:
        out.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def add_months(d: date, k: int) -> date:
    m = d.year * 12 + d.month - 1 + k
    return date(m // 12, m % 12 + 1, 1)


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def hex_ids(rng: np.random.Generator, n: int) -> pa.StringArray:
    """n random 40-hex identifiers (160 random bits each) as an Arrow string array."""
    raw = rng.integers(0, 256, size=(n, 20), dtype=np.uint8)
    chars = np.empty((n, 40), dtype=np.uint8)
    chars[:, 0::2] = _HEX[raw >> 4]
    chars[:, 1::2] = _HEX[raw & 15]
    offsets = np.arange(0, 40 * (n + 1), 40, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes()))


AOR_NAMES = [f"{name} Area of Responsibility" for name, *_ in AORS]
AOR_ICE = cumulative_shares([a[2] for a in AORS])
AOR_CBP = cumulative_shares([a[3] for a in AORS])
AOR_TRANSFER = cumulative_shares([a[4] for a in AORS])
STATES = sorted({s for a in AORS for s in a[5]})
_STATE_IX = {s: i for i, s in enumerate(STATES)}
_MAXST = max(len(a[5]) for a in AORS)
AOR_STATE_CUM = np.ones((len(AORS), _MAXST))
AOR_STATE_ID = np.zeros((len(AORS), _MAXST), dtype=np.int32)
for _i, _a in enumerate(AORS):
    _n = len(_a[5])
    _sh = [1.0] if _n == 1 else [FIRST_STATE_SHARE] + [(1 - FIRST_STATE_SHARE) / (_n - 1)] * (_n - 1)
    AOR_STATE_CUM[_i, :_n] = cumulative_shares(_sh)
    AOR_STATE_ID[_i, :_n] = [_STATE_IX[s] for s in _a[5]]
    AOR_STATE_ID[_i, _n:] = _STATE_IX[_a[5][-1]]
FAC_CODES = [f"SYN{a[1]}{k + 1}" for a in AORS for k in range(FACILITIES_PER_AOR)]
FAC_NAMES = [f"SYNTHETIC {a[0].upper()} FACILITY {k + 1}" for a in AORS for k in range(FACILITIES_PER_AOR)]
JAIL_NAMES = [f"SYNTHETIC {a[0].upper()} COUNTY JAIL" for a in AORS]
CIT = list(CITIZENSHIP)
CIT_CUM = cumulative_shares(CITIZENSHIP.values())
GENDER_LABELS = list(GENDER)
GENDER_CUM = cumulative_shares(GENDER.values())
METHOD_CUM = np.vstack([cumulative_shares(METHOD_SHARES["criminal"]), cumulative_shares(METHOD_SHARES["oiv"])])
DISP = list(DISPOSITIONS)
DISP_CUM = cumulative_shares(DISPOSITIONS.values())
CASE_CUM = np.vstack([cumulative_shares(CASE_SHARES["ICE"]), cumulative_shares(CASE_SHARES["CBP"])])
CONV = list(CONVICTIONS)
CONV_CUM = cumulative_shares(CONVICTIONS.values())
PORTS = list(LAND_PORTS) + list(AIR_PORTS)
PORT_CUM = np.vstack([cumulative_shares(list(LAND_PORTS.values()) + [0] * len(AIR_PORTS)),
                      cumulative_shares([0] * len(LAND_PORTS) + list(AIR_PORTS.values()))])
MEXICO = CIT.index("MEXICO")
CAT_ICE, CAT_CBP, CAT_CARRY, CAT_REM = range(4)  # positions in CATEGORIES
OIV = CRIMINALITY.index("Other Immigration Violator")
CONVICTED = CRIMINALITY.index("Convicted Criminal")
