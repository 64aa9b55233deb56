"""Measures of alternatives to detention (the ATD sheet of ICE's detention-statistics workbooks,
https://www.ice.gov/detain/detention-management).

ICE's Alternatives to Detention (ATD) program supervises people who are not detained, through a contractor
(BI Inc., whose "Participants Report" and court data the sheet cites) and its monitoring technologies. None of
these figures counts people in detention.
"""

from __future__ import annotations

# Concepts these measures count that domain.catalogue.CONCEPTS does not have: {name: description}.
CONCEPTS: dict[str, str] = {
    "atd_participants": "People enrolled and active in ICE's Alternatives to Detention program on one day "
                        "(supervised outside detention; not detained).",
    "atd_court_appearances": "Immigration-court hearings of ATD participants with court tracking assigned, "
                             "by whether the participant attended (hearings, not people).",
}

_DATED = ("Dated by the 'Data from BI Inc. Participants Report, <date>' line under the tables (the day BI's "
          "report was run), else by the 'as of' date in the AOR table's title, else by the edition's date.")

_BREAKDOWNS = ("Three breakdowns share the measure, each its own set of dimensions: technology (table 'ATD "
               "Active Population Counts and Daily Cost by Technology', FY2022 on); status (table 'ATD Active "
               "Population by Status, Extended Case Management Service, Count and ALIP', every year); aor and "
               "technology (table 'Active ATD Participants and Average Length in Program ... by AOR and "
               "Technology', every year). Each breakdown has its own Total row, the same people counted again: "
               "select one breakdown by its full set of dimensions, and never add a Total to its parts.")

_TECHNOLOGY = ("technology as ICE prints it, with spelling variants unified: SmartLINK (a smartphone "
               "application), GPS (FY2019 - FY2023), Ankle Monitor and Wristworn (from FY2024; ICE does not say "
               "how they relate to the earlier GPS row), VeriWatch (FY2023 - January 2024, also 'Veriwatch'), "
               "VoiceID (telephonic reporting; the AOR tables of FY2020 - FY2022 print it 'TR', and their sum "
               "equals the technology table's VoiceID row, e.g. FY2022 19,544), Dual Tech (also 'Dual "
               "Technology'), No Tech (also 'No Technology'), Total.")

_STATUS = ("status: FAMU (members of a family unit), Single Adult, and, FY2019 - FY2025, ECMS-FAMU and "
           "ECMS-Single Adult (participants in the Extended Case Management Service, counted apart from the "
           "plain FAMU and Single Adult rows: the four add up to the Total). From mid-2025 the ECMS rows are "
           "gone and FAMU + Single Adult = Total. The status comes from ICE's OBP report, dated on its own "
           "line, a day or two from BI's.")

# (name, label, concept or None, unit, definition)
MEASURES: list[tuple[str, str, str | None, str, str]] = [
    ("atd_active_population", "Active ATD participants", "atd_participants", "persons",
     "People active in ICE's Alternatives to Detention program on the day of BI Inc.'s participants report "
     "(a snapshot). Not detained people; not everyone on ICE's non-detained docket, only those enrolled in "
     "ATD. " + _BREAKDOWNS + " Dimensions: " + _TECHNOLOGY + " " + _STATUS + " aor: ICE ERO area of "
     "responsibility as printed ('WashingtonDC' read as 'Washington DC'), or Total. " + _DATED),
    ("atd_daily_cost", "ATD daily technology cost", None, "US dollars per day",
     "ICE's 'Daily Tech Cost' by technology: what the monitoring technology of all active participants on "
     "that technology costs per day, on the day of BI Inc.'s participants report (table 'ATD Active "
     "Population Counts and Daily Cost by Technology', FY2022 on). In ICE's words these are 'only related to "
     "technology costs, and do not include other associated contract and case management costs that are a "
     "part of the ATD program. Average daily participant cost is greater than those listed'. Not the "
     "program's cost, and not a cost per participant. Dimension: " + _TECHNOLOGY + " " + _DATED),
    ("atd_average_length_in_program", "ATD average length in program (ALIP)", None, "days",
     "ICE's 'Average Length in Program' (ALIP) of the participants active on the day of BI Inc.'s "
     "participants report: how long, on average, those still enrolled have been in ATD so far (ICE gives no "
     "further definition). An average over a day's stock, not the length of completed enrolments. By status "
     "(dimension status) or by AOR and technology (dimensions aor, technology); the Total rows are ICE's own "
     "overall averages, which cannot be rebuilt from the parts without their counts. " + _DATED),
    ("atd_court_appearance", "ATD participants' court appearances", "atd_court_appearances", "hearings",
     "Immigration-court hearings of ATD participants, from BI Inc.'s court data, for 'only participants "
     "with court tracking assigned' (ICE's footnote), in the period the table's title states: from 1 October "
     "of the fiscal year through the month it names ('FY26 thru March': 2025-10-01 - 2026-03-31, grain "
     "'period'), or the whole fiscal year ('FY23 Year End', 'thru September': grain 'fiscal_year'). The "
     "period ends at a month's end, not at the edition's date, so it is not emitted as fiscal-year-to-date; "
     "each row's note quotes the title (when an edition's two tables name different months, both are read "
     "through the later one: ICE once left one title stale). Dimensions: hearing_type Total (all hearings) "
     "or Final (final hearings, a subset of all hearings); outcome Attended, Failed to Attend, Total. In "
     "every edition FY2023 - FY2026 the Failed to Attend count is the same in both tables (e.g. FY26 thru "
     "March: 852), so the all-hearings table's Failed to Attend appears to count missed final hearings "
     "only; ICE does not say. Counts hearings, not people: one participant may have several."),
    ("atd_court_appearance_share", "Share of ATD participants' hearings attended / missed", None, "share",
     "ICE's '%' column of the court-appearance tables: Attended or Failed to Attend as a share (0-1) of the "
     "hearings of the same type and period (see atd_court_appearance; ICE rounds some editions' shares to "
     "three decimals). The Total row's 100% is not emitted."),
]
