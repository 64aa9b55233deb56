"""Measures of credible fear, FAMU removals, bonds and ICLOS (ICE detention-statistics workbooks,
https://www.ice.gov/detain/detention-management; readers in :mod:`icetrack.sources.ice_detention.fear`,
``.bonds`` and ``.iclos``).

None of these counts the same thing as a national series (a subset of removals, of the detained population,
of book-outs), so none is given a concept a target could be scored against, except the two lengths of stay.
"""

from __future__ import annotations

# Concepts these measures count that domain.catalogue.CONCEPTS does not have: {name: description}.
CONCEPTS: dict[str, str] = {}

_FEAR_MATCH = ("ICE matches the A-numbers of USCIS fear determinations of 'Persecution Claim Established' or "
               "'Torture Claim Established' to its detention stays whose book-in precedes the USCIS decision "
               "service date; a stay is not confirmed as related to the fear screening.")
_BOND_BASIS = ("Dim counted: 'final releases' (rows labelled 'ICE Final Releases', and every month before "
               "October 2023: ICE's footnote says 'In FY2024 ICE began tracking Final Bookouts in lieu of Final "
               "Releases ... Prior year data reflects ICE Final Releases') or 'final book-outs'. The two are not "
               "one series.")
_BOND_TABLE = ("From the 'Monthly Bond Statistics' sheet ('Bonded Out Book Outs Count and ALOS - Prior 12 months "
               "plus Current Month'; FY2022 - FY2026 editions), one value per calendar month, the prior twelve "
               "months plus the current one; months ICE left at 0 are not emitted.")
_ICLOS_DAYS = ("Dated on the day the column stands for: ICE's 'mid' is the 15th, 'end' the month's last day "
               "(' ICLOS and Detainees' sheet, FY2022 on).")

# (name, label, concept or None, unit, definition)
MEASURES: list[tuple[str, str, str | None, str, str]] = [
    ("fear_decision_to_release_days", "Average days from USCIS fear decision to ICE release", None, "days", (
        "ICE's 'Average Time from USCIS Fear Decision Service Date to ICE Release (In Days)': the average number "
        "of days between the USCIS decision service date and the final release from ICE custody, over detention "
        "stays released in the fiscal year (fiscal-year-to-date in the edition's own year), by facility type. "
        + _FEAR_MATCH + " Not a length of stay: the days before the decision are not counted.")),
    ("detained_with_established_fear", "Detained with a USCIS-established fear decision", None, "persons", (
        "People in ICE detention on the edition's date whose USCIS fear determination is Persecution or Torture "
        "Claim Established, by facility type ('... with USCIS-Established Fear Decisions in an ICE Detention "
        "Facility'). " + _FEAR_MATCH + " A subset of the currently detained; not a count of positive screenings.")),
    ("credible_fear_parole_requested", "Parole requested after a positive credible fear determination", None,
     "persons", (
         "People with a positive credible fear determination for whom parole was requested, by month of the case "
         "action decision date ('... with Positive Credible Fear Determination Parole Requested'); each row is "
         "dated in its own fiscal year (the table spans three). A fiscal year ICE left at 0 in every month is not "
         "emitted.")),
    ("credible_fear_parole_decisions", "Parole decisions after a positive credible fear determination", None,
     "persons", (
         "Parole granted or denied (dim decision; ICE: agency-based case action jurisdiction with decision "
         "'Granted' / 'Denied') for people with a positive credible fear determination, by month of the case "
         "action decision date, which 'may not be in the same month as parole requested'. Each row is dated in "
         "its own fiscal year.")),
    ("removals_famu_fytd", "ICE removals with a FAMU identifier, fiscal year to date", None, "removals", (
        "The 'Removals with a FAMU Identifier' row under 'ICE Removals: FYnnnn' (January 2024 editions on): "
        "removals of people whose record carries a family-unit (FAMU) identifier, 1 Oct to the removals table's "
        "date. A subset of removals_fytd.")),
    ("bond_stats_book_outs", "ICE final book-outs (or releases), bond statistics", None, "book-outs", (
        "'Total ICE Final Book Outs' (earlier 'Total ICE Final Releases') per month. " + _BOND_TABLE + " "
        + _BOND_BASIS)),
    ("bond_stats_bond_posted", "ICE final book-outs (or releases) with bond posted", None, "book-outs", (
        "'ICE Final Book Outs with Bond Posted' per month: final book-outs of people with a bond posted (ICE's "
        "Bond Management Unit data, whose bond post date need not be the book-out date; not the same as the "
        "'Bonded Out' release reason, since a book-out records one reason only). " + _BOND_TABLE + " "
        + _BOND_BASIS)),
    ("bond_posted_share", "Share of final book-outs (or releases) with bond posted", None, "share", (
        "'Bond Posted Book Outs (%)': final book-outs with bond posted / total final book-outs, as a fraction "
        "(0..1), per month. " + _BOND_TABLE + " " + _BOND_BASIS)),
    ("average_bond_amount", "Average bond amount", None, "US dollars", (
        "'Average Bond Amount ($)' per month, over the bonds posted; an average of 0 (no one) is not emitted. "
        + _BOND_TABLE + " " + _BOND_BASIS)),
    ("bond_stats_alos", "Average length of stay, bond statistics", "length_of_stay", "days", (
        "'ALOS (Days)' of the bond table per month; ICE does not say whose stays it averages (the title names "
        "'Bonded Out ... Count and ALOS'), so it is not the national ALOS. " + _BOND_TABLE + " " + _BOND_BASIS)),
    ("iclos", "Average in-custody length of stay (ICLOS)", "length_of_stay", "days", (
        "ICE's 'Average In Custody Length of Stay': for the people held on a day, the average of that day minus "
        "their book-in date (time in custody so far, not completed stays), by population (adult facility, FSC "
        "facility, single adults or family units with a positive fear determination still in custody, total). "
        + _ICLOS_DAYS + " An ICLOS of 0 (no one held) is not emitted.")),
    ("detainees_by_length_of_stay", "Detainees by time in custody so far", None, "persons", (
        "People held on a day by population and by time in custody so far (dim length_of_stay: 0-180, 181-365, "
        "366-730, More than 730 Days, Total), from the 'Detainees' table. " + _ICLOS_DAYS)),
]
