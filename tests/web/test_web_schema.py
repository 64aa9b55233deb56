"""Schemathesis over the app's own OpenAPI description (in-process ASGI): generated requests for every
operation - valid, boundary and invalid values, including injection-shaped strings in every string
parameter - never get a server error."""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from icetrack.web import create_app

from helpers import INJECTIONS

EXAMPLES_PER_OPERATION = 8


@pytest.fixture(scope="module")
def web_app(synthetic_warehouse):
    app = create_app(synthetic_warehouse)
    yield app
    app.state.store.close()


@pytest.fixture(scope="module")
def web_schema(web_app):
    return schemathesis.openapi.from_asgi("/openapi.json", web_app)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_error_on_generated_requests(web_schema, mode):
    operations = [result.ok() for result in web_schema.get_all_operations()]
    assert len(operations) > 15
    if mode == GenerationMode.NEGATIVE:  # an operation without parameters has no invalid request to make
        operations = [op for op in operations if op.path_parameters or op.query]
    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def no_server_error(case):
            response = case.call()
            case.validate_response(response, checks=[not_a_server_error])

        no_server_error()


def test_injection_strings_in_every_parameter(web_app):
    """Every parameter of every operation, given each injection-shaped string (the others valid), is
    rejected (4xx) or treated as data (2xx) - never a server error."""
    from fastapi.testclient import TestClient

    client = TestClient(web_app, raise_server_exceptions=False)
    spec = client.get("/openapi.json").json()
    tried = 0
    for path, ops in spec["paths"].items():
        parameters = ops["get"].get("parameters", [])
        for target in parameters:
            for text in INJECTIONS:
                url, query = path, {}
                for p in parameters:
                    value = text if p is target else VALID.get(p["name"])
                    if p["in"] == "path":
                        url = url.replace("{" + p["name"] + "}", value.replace("/", "%2F"))
                    elif value is not None and (p is target or p.get("required")):
                        query[p["name"]] = value
                r = client.get(url, params=query)
                assert r.status_code < 500, (path, target["name"], text, r.status_code, r.text[:200])
                tried += 1
    assert tried > 100


# a valid value for each parameter that needs one while another parameter carries the injection string
VALID = {"measure": "book_ins", "table": "book_ins", "chart": "arrests", "period": "2025-01",
         "facility_id": "adams-county-correctional-center-ms"}
