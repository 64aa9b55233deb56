"""The dashboard and JSON API: a FastAPI app over a read-only connection to the warehouse.

Every parameter is validated (enums, dates, bounded integers, names checked against the warehouse) and
used only as a value: no endpoint takes SQL or an expression. Every table endpoint answers JSON or, with
``format=csv``, the same rows as CSV. Results are cached per (figure, parameters, warehouse file version).
The warehouse is held open only while something is computed (:mod:`icetrack.web.store`), so other commands,
``icetrack ingest`` included, can use the file while the server runs; every response carries the security
headers of :mod:`icetrack.web.security`.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from icetrack import __version__
from icetrack.figures.charts import NothingToDraw
from icetrack.figures.result import InvalidParameters, NotFound
from icetrack.metrics.ledger import LedgerError
from icetrack.warehouse import WarehouseError, default_warehouse_path
from icetrack.web.routes import api, charts, pages
from icetrack.web.service import Service
from icetrack.web.security import SecurityHeaders
from icetrack.web.store import ReadOnlyStore, ResponseCache, WarehouseBusy

DESCRIPTION = ("U.S. immigration enforcement against its announced targets, from the public record. Aggregate "
               "statistics only; every value carries the edition that published it. Add format=csv to any table "
               "endpoint for a CSV download.")
# A ledger asked for what it cannot form (unknown grain, series or target) is a bad request: 400 with one line.
ERROR_STATUS = {NotFound: 404, NothingToDraw: 404, InvalidParameters: 422, LedgerError: 400, WarehouseError: 503}


def _error(request: Request, exc: Exception) -> JSONResponse:
    status = next(code for kind, code in ERROR_STATUS.items() if isinstance(exc, kind))
    detail, headers = " ".join(str(exc).split()), None
    if isinstance(exc, WarehouseBusy):
        headers = {"Retry-After": "1"}  # a writer holds the file for seconds (an ingest): a client may ask again
    elif isinstance(exc, WarehouseError):
        # the file went missing or bad under the server: say so in its log, not the server's paths to clients
        logging.getLogger("icetrack.web").error("%s", detail)
        detail = "the warehouse cannot be read right now"
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def create_app(warehouse_path: str | Path) -> FastAPI:
    """The app over ``warehouse_path``, opened read-only (WarehouseError if it is missing or not loaded)."""
    cache = ResponseCache()
    store = ReadOnlyStore(warehouse_path, on_change=cache.clear)
    # no /docs or /redoc: FastAPI's interactive pages load their scripts from a CDN; /openapi.json is served
    app = FastAPI(title="icetrack", version=__version__, docs_url=None, redoc_url=None, description=DESCRIPTION)
    app.state.store, app.state.cache, app.state.service = store, cache, Service(store, cache)
    for kind in ERROR_STATUS:
        app.add_exception_handler(kind, _error)
    app.mount("/static", StaticFiles(directory=str(resources.files("icetrack.web") / "static")), name="static")
    for module in (api, charts, pages):
        app.include_router(module.router)
    app.add_middleware(SecurityHeaders)
    return app


def app_from_environment() -> FastAPI:
    """The app for ``uvicorn --factory icetrack.web.app:app_from_environment`` (e.g. with several worker
    processes): the warehouse named by ICETRACK_WAREHOUSE, else the default one."""
    return create_app(default_warehouse_path())
