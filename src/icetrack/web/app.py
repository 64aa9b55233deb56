"""The dashboard and JSON API: a FastAPI app over a read-only connection to the warehouse.

Every parameter is validated (enums, dates, bounded integers, names checked against the warehouse) and
used only as a value: no endpoint takes SQL or an expression. Every table endpoint answers JSON or, with
``format=csv``, the same rows as CSV. Results are cached per (figure, parameters, warehouse file version).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from icetrack import __version__
from icetrack.figures.charts import NothingToDraw
from icetrack.figures.result import InvalidParameters, NotFound
from icetrack.warehouse import default_warehouse_path
from icetrack.web.routes import api, charts, pages
from icetrack.web.service import Service
from icetrack.web.store import ReadOnlyStore, ResponseCache

DESCRIPTION = ("U.S. immigration enforcement against its announced targets, from the public record. Aggregate "
               "statistics only; every value carries the edition that published it. Add format=csv to any table "
               "endpoint for a CSV download.")
ERROR_STATUS = {NotFound: 404, NothingToDraw: 404, InvalidParameters: 422}


def _error(request: Request, exc: Exception) -> JSONResponse:
    status = next(code for kind, code in ERROR_STATUS.items() if isinstance(exc, kind))
    return JSONResponse({"detail": str(exc)}, status_code=status)


def create_app(warehouse_path: str | Path) -> FastAPI:
    """The app over ``warehouse_path``, opened read-only (WarehouseError if it is missing or not loaded)."""
    store = ReadOnlyStore(warehouse_path)
    cache = ResponseCache()
    # no /docs or /redoc: FastAPI's interactive pages load their scripts from a CDN; /openapi.json is served
    app = FastAPI(title="icetrack", version=__version__, docs_url=None, redoc_url=None, description=DESCRIPTION)
    app.state.store, app.state.cache, app.state.service = store, cache, Service(store, cache)
    for kind in ERROR_STATUS:
        app.add_exception_handler(kind, _error)
    app.mount("/static", StaticFiles(directory=str(resources.files("icetrack.web") / "static")), name="static")
    for module in (api, charts, pages):
        app.include_router(module.router)
    return app


def app_from_environment() -> FastAPI:
    """The app for ``uvicorn --factory icetrack.web.app:app_from_environment`` (e.g. with several worker
    processes): the warehouse named by ICETRACK_WAREHOUSE, else the default one."""
    return create_app(default_warehouse_path())
