"""Schemathesis reads the description the site serves (/api/openapi.json) and sends every described operation
requests made from it, through the site's own WSGI application: no answer may be a server error, and each must
have a described status, the described content type and, for JSON, the described shape.

A bounded number of examples an operation, derandomized: the same requests every run, in a few seconds.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .public_data import SEED_IDS, seed_for_this_module  # noqa: F401
from .test_openapi import everything_a_record_can_hold

pytestmark = pytest.mark.django_db

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 30


@pytest.fixture
def app(db):
    """The site as a WSGI application, answering inside the test's transaction.

    Django closes the database connection at the start and end of each request it serves; inside a test that
    would end the transaction the test's data lives in (Django's test client disconnects it the same way).
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def schema(app):
    everything_a_record_can_hold()
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


def operations(schema) -> dict:
    return {f"{op.method.upper()} {op.path}": op for op in (result.ok() for result in schema.get_all_operations())}


def test_every_described_operation_is_tried(schema):
    """All but the description itself, which schemathesis leaves out as the schema it loaded (its answer is
    checked in tests/test_openapi.py)."""
    described = {f"{method.upper()} {path}" for path, item in schema.raw_schema["paths"].items() for method in item}
    assert "GET /export/events.csv" in described
    assert set(operations(schema)) == described - {"GET /api/openapi.json"}


def test_generated_requests_get_no_server_error_and_described_answers(schema):
    for label, operation in operations(schema).items():

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        )
        @given(case=operation.as_strategy())
        def check(case):
            response = case.call()
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except Exception as error:
            error.add_note(f"while trying {label}")
            raise


@pytest.mark.parametrize("case_id", [*SEED_IDS, "KP-9999"])
def test_each_published_case_and_an_unknown_one_answer_as_described(schema, case_id):
    operation = operations(schema)["GET /api/cases/{case_id}/"]
    case = operation.Case(path_parameters={"case_id": case_id})
    response = case.call()
    assert response.status_code == (404 if case_id == "KP-9999" else 200)
    case.validate_response(response, checks=CHECKS)
