"""The figures the dashboard serves, each computed once per (figure, parameters, warehouse version).

Every method returns a :class:`~icetrack.figures.result.Result` (or a chart answer) from the response cache:
the API endpoint, the chart drawn from the same figure and the page showing it share one cache entry.
Computations run in the thread pool (DuckDB, pandas and vl-convert block), each thread on its own cursor.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any, Callable

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from icetrack.figures import arrests, capacity, claims, detention, evaluation, facilities, outcomes, series
from icetrack.figures import ledger as targets_ledger
from icetrack.figures.result import InvalidParameters, Result
from icetrack.metrics.targets import pace
from icetrack.web.serialize import csv_bytes, json_bytes
from icetrack.web.store import ReadOnlyStore, ResponseCache


class Service:
    """Cached figures over one read-only warehouse."""

    def __init__(self, store: ReadOnlyStore, cache: ResponseCache):
        self.store, self.cache = store, cache

    def wh(self):
        return self.store.warehouse()

    # -- caching --------------------------------------------------------------------------------------
    def key(self, name: str, params: dict[str, Any]) -> tuple:
        return (name, tuple(sorted((k, json.dumps(v, default=str, sort_keys=True)) for k, v in params.items())),
                self.store.version())

    def cached(self, name: str, params: dict[str, Any], compute: Callable[[], Any]) -> Any:
        return self.cache.get_or_compute(self.key(name, params), compute)

    async def body(self, name: str, params: dict[str, Any], compute: Callable[[], Any], fmt: str,
                   serialize: Callable[[Any], bytes], *, cache: bool = True) -> bytes:
        """The serialized response, cached beside what it serializes (same key plus the format). Cache hits
        are answered on the event loop without touching the warehouse; misses compute in the thread pool,
        holding the warehouse open (a store session) while they run. ``cache=False`` for answers derived
        cheaply from cached ones, which would only push costly entries out of the cache."""
        if not cache:
            return await run_in_threadpool(self._in_session, lambda: serialize(compute()))
        key = self.key(name, params) + (fmt,)
        found, body = self.cache.lookup(key)
        if found:
            return body
        return await run_in_threadpool(self._in_session, lambda: self.cache.get_or_compute(
            key, lambda: serialize(self.cached(name, params, compute))))

    def _in_session(self, work: Callable[[], Any]) -> Any:
        with self.store.session():
            return work()

    async def table(self, name: str, params: dict[str, Any], fmt: str, *, cache: bool = True,
                    as_json: Callable[[Result], Any] = Result.as_json) -> Response:
        """The figure ``name`` (a method of this class, - for _) with ``params`` as JSON (``as_json`` of its
        Result: by default its detail, rows and provenance), or its rows as CSV."""
        compute = lambda: getattr(self, name.replace("-", "_"))(**params)  # noqa: E731
        if fmt == "csv":
            body = await self.body(name + "-body", params, compute, fmt, lambda r: csv_bytes(r.rows), cache=cache)
            return Response(body, media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="icetrack-{name}.csv"'})
        body = await self.body(name + "-body", params, compute, fmt, lambda r: json_bytes(as_json(r)), cache=cache)
        return Response(body, media_type="application/json")

    # -- figures --------------------------------------------------------------------------------------
    def sources(self) -> Result:
        return self.cached("sources", {}, lambda: series.sources(self.wh()))

    def measures(self) -> Result:
        return self.cached("measures", {}, lambda: series.measures(self.wh()))

    def series(self, measure: str, vintage: str, dims: dict[str, str], grain: str | None, start: date | None,
               end: date | None) -> Result:
        params = {"measure": measure, "vintage": vintage, "dims": dims, "grain": grain, "start": start, "end": end}
        return self.cached("series", params, lambda: series.series(self.wh(), **params))

    def revisions(self, measure: str, period: str, dims: dict[str, str]) -> Result:
        params = {"measure": measure, "period": period, "dims": dims}
        return self.cached("revisions", params, lambda: series.revisions(self.wh(), **params))

    def targets(self, by: date | None) -> Result:
        """The ledger, with 'pace needed' by ``by`` when given. The ledger's queries (seconds) do not depend on
        ``by`` and run once per warehouse version; each horizon is then a little arithmetic, so a client
        sending many dates costs no more than one. ``by`` must lie in :func:`horizon_range`."""
        ledger = self.cached("targets", {"by": None}, lambda: arrests.targets(self.wh(), None))
        if by is None:
            return ledger
        low, high = horizon_range(ledger)
        if not low <= by <= high:
            raise InvalidParameters(f"by {by} is outside the dates the ledger can be paced to ({low} to {high})")
        return with_horizon(ledger, by)

    def ledger(self, grain: str, series: list[str], targets: list[str], since: date | None,
               by: date | None) -> Result:
        """The targets ledger at ``grain`` (LedgerError, a 400, for an unknown grain, series or target or a grain
        a series cannot be read at). ``since`` and ``by`` change the ledger's own computation (seconds), so an
        answer for a given date is computed when asked and not cached: a client sending many dates costs time
        but cannot push the costly shared answers out of the cache. Both must lie in :func:`ledger_dates`."""
        low, high = ledger_dates()
        for name, day in (("since", since), ("by", by)):
            if day is not None and not low <= day <= high:
                raise InvalidParameters(f"{name} {day} is outside the dates the ledger covers ({low} to {high})")
        params = {"grain": grain, "series": series, "targets": targets, "since": since, "by": by}
        compute = lambda: targets_ledger.ledger(self.wh(), grain, series=series or None,  # noqa: E731
                                                targets=targets or None, since=since, by=by)
        return compute() if since is not None or by is not None else self.cached("ledger", params, compute)

    def picture(self) -> Result:
        """The monthly picture the dashboard opens on (ICE arrests per day since October 2023 against the
        goal in force, with the other targets and one sentence per target)."""
        return self.cached("picture", {}, lambda: targets_ledger.picture(self.wh()))

    def daily(self, measure: str, shift: int) -> Result:
        return self.cached("daily", {"measure": measure, "shift": shift},
                           lambda: arrests.daily(self.wh(), measure, shift))

    def detention(self, table: str, fiscal_year: int | None, agency: str | None) -> Result:
        params = {"table": table, "fiscal_year": fiscal_year, "agency": agency}
        return self.cached("detention", params, lambda: detention.table(self.wh(), **params))

    def funnel(self, period: str, breakdown: str | None, threshold: int) -> Result:
        if breakdown is not None and period != "month" and outcomes.has_person_data(self.wh()):
            # Day or week cohorts split by group are mostly small cells, and suppressing tables of that size
            # takes minutes: the dashboard publishes breakdowns for month cohorts.
            raise InvalidParameters(f"a breakdown by {breakdown} is published for month cohorts only (period=month)")
        params = {"period": period, "breakdown": breakdown, "threshold": threshold}
        return self.cached("funnel", params, lambda: outcomes.funnel(self.wh(), **params))

    def survival(self, curve: str, origin: str, breakdown: str | None, threshold: int) -> Result:
        """One curve of the published survival, which is computed once for both curves."""
        params = {"origin": origin, "breakdown": breakdown, "threshold": threshold}
        published = self.cached("survival-both-curves", params, lambda: outcomes.survival(self.wh(), **params))
        return self.cached("survival", {"curve": curve, **params}, lambda: outcomes.survival_curve(published, curve))

    def claims(self, verdict: str | None) -> Result:
        checked = self.cached("claims-checked", {}, lambda: claims.check(self.wh()))
        return self.cached("claims", {"verdict": verdict},
                           lambda: claims.claims(self.wh(), verdict, checked=checked))

    def _calibrated(self):
        return self.cached("calibration-object", {}, lambda: capacity.calibrate(self.wh()))

    def calibration(self) -> Result:
        return self.cached("calibration", {}, lambda: capacity.calibration(self.wh(), self._calibrated()))

    def projection(self, arrests_per_day: int, beds: int, stay_days: float | None, days: int) -> Result:
        params = {"arrests_per_day": arrests_per_day, "beds": beds, "stay_days": stay_days, "days": days}
        return self.cached("projection", params,
                           lambda: capacity.projection(self.wh(), **params, calibrated=self._calibrated()))

    def goal_seek(self, **inputs: Any) -> Result:
        return self.cached("goal-seek", inputs,
                           lambda: capacity.goal_seek(self.wh(), calibrated=self._calibrated(), **inputs))

    def evaluation(self) -> Result:
        """The rolling-origin evaluation of the capacity model (seconds): once per warehouse version."""
        return self.cached("evaluation", {}, lambda: evaluation.evaluation(self.wh()))

    def _facility_data(self):
        return self.cached("facility-data", {}, lambda: facilities.load_data(self.wh()))

    def facilities(self, state: str | None) -> Result:
        """Every facility of the loaded workbooks (NotFound, a 404, when none is loaded or the state has none)."""
        return self.cached("facilities", {"state": state},
                           lambda: facilities.facilities(self.wh(), state, data=self._facility_data()))

    def facility(self, facility_id: str) -> Result:
        return self.cached("facility", {"facility_id": facility_id},
                           lambda: facilities.facility(self.wh(), facility_id, data=self._facility_data()))

    def facility_chart(self, chart: str, facility_id: str | None) -> dict[str, Any]:
        """The state map ('map') or one facility's history chart ('history'), as the dashboard embeds it."""
        result = self.facility(facility_id) if chart == "history" else self.facilities(None)
        return self.cached("facility-chart", {"chart": chart, "facility_id": facility_id},
                           lambda: facilities.chart_answer(result, chart))

    def daily_measures(self) -> list[str]:
        return arrests.daily_measures(self.wh())

    def fiscal_years(self) -> list[int]:
        return self.cached("fiscal-years", {}, lambda: detention.fiscal_years(self.wh()))

    def has_person_data(self) -> bool:
        return outcomes.has_person_data(self.wh())


def ledger_dates(today: date | None = None) -> tuple[date, date]:
    """The ``since`` and ``by`` dates the ledger is computed for: from fiscal year 2000 (before any figure
    icetrack reads) to the end of the year after today."""
    return date(1999, 10, 1), date((today or date.today()).year + 1, 12, 31)


def horizon_range(ledger: Result, today: date | None = None) -> tuple[date, date]:
    """The horizons 'pace needed' is computed for: from the first day of any daily series (before it a
    window has no days) to the end of the year after today or after the last day of data, whichever is later
    (a target is stated for the months ahead, not for decades)."""
    days = [date.fromisoformat(v[k]) for s in ledger.detail["ledger"] for v in s["variants"].values()
            for k in ("first_day", "last_day")]
    if not days:
        return date.min, date.max  # no daily series: the horizon changes nothing
    return min(days), date(max(max(days), today or date.today()).year + 1, 12, 31)


def with_horizon(ledger: Result, by: date) -> Result:
    """``ledger`` (computed with the default horizon) paced to ``by``: the two fields that depend on the
    horizon, pace_by and pace_needed_low, recomputed by :func:`icetrack.metrics.targets.pace` (the ledger's own
    formula), everything else shared."""
    series = copy.deepcopy(ledger.detail["ledger"])
    scores = {}
    for s in series:
        for t in s["targets"]:
            for variant, v in s["variants"].items():
                score = t.get(variant)
                if score is None:
                    continue
                score.update(pace(float(t["value_low"]), float(v["total"]), date.fromisoformat(v["first_day"]),
                                  date.fromisoformat(v["last_day"]), by))
                scores[(s["measure"], s["dims_key"], t["target_id"], variant)] = score
    rows = [{**r, **{k: scores[(r["measure"], r["dims_key"], r["target_id"], r["variant"])][k]
                     for k in ("pace_by", "pace_needed_low")}} for r in ledger.rows]
    return Result(rows, ledger.provenance, detail={**ledger.detail, "by": by.isoformat(), "ledger": series},
                  message=ledger.message, person_level=ledger.person_level)


async def service(request: Request) -> Service:
    """The app's Service (a FastAPI dependency of every route). Async so that FastAPI resolves it on the event
    loop: a plain function dependency is run in the thread pool, one hand-off per request."""
    return request.app.state.service
