"""Definitions shown to users, as data: every output that states its definitions quotes one of these.

Each text is what a reader of that output needs to interpret the figures; the code that computes them
names the constant it follows.
"""


# Metrics over ICE's detention-statistics workbooks (icetrack.metrics.detention).
DETENTION = """Metrics over ICE's detention-statistics workbooks (national series).

Definitions:
- *Latest vintage monthly series*: each month's value from the newest edition (latest as-of date) that
  reports it; the edition and its as-of date travel with every value.
- *Book-out classes*: 'Release to Remove' is a removal; Bonded Out (= Bond Set by ICE + Bond Set by IJ,
  which are detail rows and never added again), Order of
  Recognizance, Order of Supervision, Paroled, Proceedings Terminated, Relief Granted by IJ, Prosecutorial
  Discretion and Court Ordered are releases; Transferred and Transfer to U.S. Marshals or other agency are
  transfers (neither); Other is other.
- *Removal share* of a month = 'Release to Remove' book-outs / all final book-outs of that month (all
  criminality, all reasons including transfers); also given excluding transfers (removals / removals +
  releases + other). Only for months whose table lists removals (FY2024 on).
- *Partial month*: the month of the edition's as-of date, only partly counted.
- *Currently detained* is the workbook's snapshot on its as-of date (one value per edition).
- *Removals to date* is the fiscal-year-to-date removals total of each edition, by as-of date.
"""


# How one published figure moved from edition to edition (icetrack.metrics.revisions).
REVISIONS = """Revisions: how one published figure moved from edition to edition.

Definitions:
- A *revision path* lists, for one measure, one set of dimensions and one reference period, the value in
  every edition that published it, in publication order (publication date, else as-of date).
- ``change`` is the difference from the previous edition in that order (null for the first).
- Flag ``as_of_backwards``: the edition's as-of date is earlier than that of an edition published before it
  (a re-post of older data, or a mis-dated file).
- Flag ``stale_repost``: every figure of the edition equals those of an earlier edition with other bytes
  (same tables re-posted under a new name or date).
- Flag ``same_as_of_differs``: another edition with the same as-of date gives a different value for this
  figure (e.g. a re-saved or marked-up copy).
"""


# The targets ledger (icetrack.metrics.targets).
TARGETS = """- A *daily series* is one measure with one set of dimensions at grain ``day``, latest vintage.
- A target *applies* to a series when both count the same concept (catalogue) and have the same scope
  (national, or per field office when the series carries an ``aor`` dimension). A target's dates do not
  restrict which days are scored - a quota reported on Feb 7 describes what was demanded since late
  January - but days before its ``effective_from`` are counted and reported separately.
- ``shortfall_low`` = target low end x days covered - total over the covered days (negative = surplus);
  missing days are not counted as zero, they are reported as ``days_missing``.
- ``pace_needed_low`` = the daily rate needed on every remaining day up to ``by`` for the total since the
  series' first day to equal the low end x days; null when ``by`` is not after the last covered day.
- ``as_published``: each figure on its published reference date. ``shifted_back_one_day``: every date
  moved back one day, because a post may describe the previous day's activity. Weekend = Saturday, Sunday.
- Median is the interpolated median."""


# Outcomes of arrests: cohort funnel and time-to-outcome (icetrack.metrics.outcomes).
OUTCOMES = """Outcomes of arrests: cohort funnel and time-to-outcome event tables (Ibis; DuckDB or Spark).

Definitions (stated in every output):
- **Cohort**: arrests with an identifier that are not ``duplicate_likely`` (one per arrest episode), grouped
  by the period of the arrest date (day, ISO week starting Monday, or month) and optionally one breakdown.
  Arrests without an identifier cannot be followed and are excluded (their count is reported).
- **State as of the release cut-off** of each cohort arrest, from the stay linked to it (arrest -> stay rule)
  and the stay's release reason:
  ``removed`` (reason mentions removal, or the stay is linked to a removal), ``released`` (any other
  release reason: bond, recognizance, supervision, parole, terminated proceedings, relief...),
  ``transferred`` (to the U.S. Marshals or another agency), ``detained`` (the stay is still open at the
  cut-off - censored, not an outcome), ``not_booked_in`` (no stay linked). ``removed_without_detention`` is
  an arrest with no stay whose person departed within ``direct_removal_days`` (30) after the arrest.
- **Time to outcome**: population = cohort arrests linked to a stay (origin ``arrest``) or every stay
  (origin ``book_in``); time = whole days from origin to the stay's end (floored); the event is the stay's
  outcome (removal, release, transfer) or censoring at the cut-off for open stays.
"""


# The capacity and projection model (icetrack.model.capacity).
CAPACITY = """Capacity and projection model: what an arrest target takes in beds, stays and removals.

Definitions (sources: ICE annual reports, https://www.ice.gov/spotlight/statistics, and ICE detention statistics,
https://www.ice.gov/detain/detention-management):
- Admissions: initial book-ins into ICE detention per day, by arresting agency. In a scenario, ICE
  admissions = ICE arrests per day x share detained (the share of ICE arrests booked into detention:
  ICE-arrested book-ins / ERO administrative arrests over the latest fiscal year with both); CBP-arrested
  admissions continue at their calibrated rate.
- Population: people held at midnight. ICE's average daily population (ADP) is midnight-based; the model's
  monthly ADP is the mean of its midnight populations in the month.
- Stay: the number of midnights a person is held. The model's mean stay per agency is the Little's-law stay
  of the calibration months, ADP / book-ins per day. ICE's ALOS (average length of stay of the people
  booked out in a month) is reported beside it (`alos_days`) but not used: it describes those who left, not
  those held, and the two agree only in a steady state. For all agencies ALOS has been the shorter (Jul-Dec
  2024: 47.1 against 51.3 days; Oct 2025-Mar 2026: 50.2 against 54.5), so ALOS x book-ins would start a
  projection below the population ICE reported. The workbooks publish only mean stays, so stays are
  geometric (a daily exit probability of 1 / mean stay: the maximum-entropy choice for a known mean; the
  FY2023-FY2024 monthly ADP does not identify a shape: gamma shapes 0.3 to 2 fit it within about one point
  of MAPE).
- Little's law (steady state): population = admissions per day x mean stay. Sustainable admissions = beds /
  mean stay; beds needed = admissions x mean stay; mean stay = the admissions-weighted mean of the agencies'.
- Capacity: the beds in force on the projection's start date (the bed targets: the FY2024 appropriation's
  41,500 through FY2025, the 2025 expansion goal of about 100,000 from July 4, 2025; of those in force, the
  one in force from the later date; a back-test sees only those announced by its cut-off), or the beds given
  (`--beds none`: no limit). When the midnight population would exceed the beds, the day's arrivals beyond
  them are turned away ("forced releases": people arrested beyond capacity are not held). A projection
  starts from the last reported population by agency; when that population is already above the beds no one
  held is released on day one - the projection says so and turns arrivals away until exits bring it under.
- Book-outs (natural exits, not forced releases) split by reason at the calibrated shares: 'Release to
  Remove' is a removal from detention. ICE's removals also count people never booked into ICE detention
  (from FY2025 CBP turnovers not detained; from March 2025 Title 50 expulsions): these "other removals"
  (fiscal-year-to-date removals minus 'Release to Remove' book-outs of the same months) continue at their
  calibrated daily rate. Removals per year = 365 x (removals from detention + other removals) per day.
- Calibration: the last six complete months (long enough to average month-to-month noise, short enough to
  follow trends such as the rising removal share) from the editions published on or before `through`
  (an edition without a publication date counts from its as-of date; an undated reference figure from the
  start of the period it describes). Uncertainty: each parameter's standard deviation over those months.
- Monte Carlo: each run draws the stays and CBP admissions (normal, clipped) and the removal share (beta)
  from the calibration; flows within a run are expected values (at ~1,000 admissions a day Poisson noise
  is ~0.1% of a monthly ADP, negligible next to parameter uncertainty). Bands are the 5th-95th percentiles.
"""


# The targets ledger over time (icetrack.metrics.ledger).
LEDGER = """Targets over time: each series, period by period, against the target in force.

Definitions:
- *Period*: a day, a Monday-Sunday week, a calendar month, or fiscal year to date (October 1 to each month's
  end). A series published per month cannot be read per day or week.
- *Per day*: a period's total over the days it covers / those days. A month is covered in full, except the
  as-of month of the latest edition holding it, covered up to the day its table runs through. A period with
  no covered day is *missing*: listed, never counted as zero.
- *Levels* (a detained population) are averaged over the covered days and compared with beds as occupancy
  (population / beds); they are never added up.
- *Target in force*: each target applies from effective_from to effective_to (inclusive). Targets that
  replace one another share a *track*; a period in which the target changed is compared with the
  day-weighted mean of the targets in force on its covered days. A rate per year is compared per day as
  value / 365. An effective date known only to the month is said to be so.
- *Attainment* = per-day figure / target (percent); *gap per day* = target - per-day figure (positive: short).
- *Cumulative shortfall since the effective date* = the sum over covered days in force of (target - figure);
  a monthly figure is spread evenly over its days for this. Missing days in force are counted and stated.
- *First period at or above*: the first period whose per-day figure (over its days in force) reaches the
  target's low (or high) end, else "not reached".
- *Pace needed*: the daily figure that would bring the track's current target's average (from its effective
  date, or for a yearly goal from the start of the fiscal year) up to the target by the horizon (default: the
  end of that fiscal year).
- *Readings*: book-ins are a lower bound on arrests (people arrested and not detained are missing);
  estimated arrests = book-ins / the share of ICE arrests booked in, with that share's interval (bridge
  arrests.from_book_ins); removals per day between two editions = the difference of their removals-to-date
  figures / the days between their table dates (a new fiscal year restarts the count).
"""


# The rolling-origin evaluation of the capacity model (icetrack.model.evaluation).
EVALUATION = """Rolling-origin evaluation of the capacity model: what its forecasts would have scored, origin by origin.

Definitions:
- *Origin*: a day the forecast is made on: every month end from October 31, 2019 to the last month end with a
  value scored after it, and every day an edition holding the monthly series became public in that range (its
  publication date; an undated edition counts from its as-of date). At an origin only the figures public that
  day are used (an undated reference figure counts from the start of the period it describes), each figure at
  its newest public edition. Origins that saw exactly the same figures make the same forecast: it is scored
  once, under the earliest of them (`forecast_of`).
- *Known month*: the last month of total ADP counted in full among the figures public at the origin. Horizon h
  is the h-th month after it (1 to 6 by default, at most 24).
- *Targets*: monthly ADP (all agencies, all criminality); monthly final book-outs (the tables' Total row, only
  for months whose table lists 'Release to Remove', FY2024 on: earlier tables list releases only); removals to
  date (the fiscal-year-to-date removals of the latest table dated in the horizon month, scored only when
  dated after the last such table public at the origin).
- *Actual*: the latest vintage of each value.
- *Model*: the capacity model calibrated on what was public at the origin (the rules of the capacity model's
  definitions), status quo: admissions held at the calibrated rate per day, starting from the last reported
  ADP by agency, no bed cap. Its point forecast is the median of the Monte Carlo runs; removals to date add
  the runs' removals (from detention and other) after the last table public at the origin to its figure, or
  start from zero on October 1 of a later fiscal year. The model needs book-outs by reason with 'Release to
  Remove' rows (public from October 2024): before that it makes no forecast.
- *Baselines* (each on the same origins and horizons, from the same public figures): *last value* carried
  forward; *seasonal naive*, the same month a year before the target month (none when that month is unknown);
  *drift*, the straight line through the first and last known values of the last 12 months, extended;
  *ETS*, exponential smoothing with an additive damped trend (statsmodels, maximum likelihood) fitted on the
  known months (at least 12; a gap of one or two unpublished months, such as a September a year-end workbook
  dated before the 30th left out, filled by linear interpolation; the history before a longer gap left out).
  They run on rates: ADP; book-outs per day (x the days of the target month); removals per day since October
  1 of each table's fiscal year, by the month of its latest table (x the days from October 1 to the target
  table's date). The removals-to-date tables come one per edition, not one per month, so ETS is not fitted on
  them.
- *Errors*: % error = (forecast - actual) / actual; MAPE = the mean of its absolute values; bias = its mean
  (negative: too low). The model *beats* a baseline when its MAPE is lower on the forecasts both made.
- *Empirical bands*: at an origin, the 80% and 95% bands of a model forecast at horizon h are the forecast x
  (1 + m -/+ q): m the median and q the ceil((n+1) L)-th smallest |e - m| of the relative errors e (actual /
  forecast - 1) of the model's forecasts made at earlier origins at the same horizon (the three targets
  pooled) whose value had been published by this origin (the value as then published). The level L adapts
  to the misses so far (adaptive conformal inference): L = nominal - 0.05 x the sum over those earlier
  forecasts of (1 - nominal - missed); above 1, the largest deviation is widened by L. With fewer than 8
  such errors there is no band and the forecast is not counted in the coverage.
- *Coverage*: the share of forecasts with a band whose actual lies inside it (bounds included), per band, per
  horizon and overall, against the nominal 80% and 95%. The Monte Carlo bands (10th-90th and 2.5th-97.5th
  percentiles of the runs) are measured on the same forecasts for comparison.
"""
