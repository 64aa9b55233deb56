"""Which fiscal years each measure has figures for, across every loaded edition (a table ICE added in FY2022
has no figure before it): what `icetrack measures` and the README's table-by-year list report."""

from __future__ import annotations

from icetrack.warehouse.store import Warehouse


def measure_fiscal_years(wh: Warehouse) -> dict[str, list[int]]:
    """{measure: sorted fiscal years (1 Oct - 30 Sep, named by the year it ends) of its figures' period ends}."""
    rows = wh.con.execute(
        """SELECT measure, list(DISTINCT fy ORDER BY fy) FROM (
               SELECT o.measure, year(o.period_end) + CASE WHEN month(o.period_end) >= 10 THEN 1 ELSE 0 END AS fy
               FROM observations o JOIN editions e USING (edition_id) WHERE NOT e.synthetic)
           GROUP BY measure""").fetchall()
    return {measure: list(years) for measure, years in rows}
