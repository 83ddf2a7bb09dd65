"""The API keeps its word: schemathesis reads /api/schema/ from the app itself (in-process WSGI, on the test's own
database transaction) and calls every operation with a full-scope key of a brand that has one of everything:
parameters and bodies generated from the schema, valid ones and invalid ones, and path ids half the time those
of the brand's real objects. An answer that is a server error, or whose status code, content type or body the
schema does not declare, is a finding; every finding of every operation is listed and fails the test.

Bounded: API_FUZZ_EXAMPLES examples per operation and kind (default 20, derandomised: the same cases each run)
and API_FUZZ_SECONDS for the whole run (default 240; operations the budget leaves out are named in a warning).
Run it alone with `pytest -m schemathesis tests/api`.
"""

import os
import time
import warnings

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import one_of_everything

from .conftest import key_client

pytestmark = [pytest.mark.django_db, pytest.mark.schemathesis]

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "20"))
SECONDS = float(os.environ.get("API_FUZZ_SECONDS", "240"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


@pytest.fixture
def _app_shares_the_test_transaction():
    """The app runs in this thread on the test's connection: it must not close it when a request starts and ends
    (Django's own test client does the same), so that it sees the rows the test made in its open transaction."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def shortened(report: str, lines: int = 40, width: int = 240) -> str:
    """A finding as schemathesis words it (check, expected, received, a curl to reproduce), at a readable size."""
    kept = [line if len(line) <= width else line[:width] + " …" for line in report.splitlines()[:lines]]
    return "\n".join(kept)


def strategies(operation, objects: dict):
    """Valid and invalid cases of one operation; its path ids also set to the brand's real objects'."""
    real = {p.name: objects[p.name] for p in operation.path_parameters if p.name in objects}
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        yield mode.value, operation.as_strategy(mode)
        if real:
            yield f"{mode.value}, real ids", operation.as_strategy(mode, path_parameters=real)


def test_every_answer_is_what_the_schema_declares(brand, settings, _app_shares_the_test_transaction):
    from django.core.handlers.wsgi import WSGIHandler

    settings.API_KEY_RATE = "1000000/m"  # one key calling fast; throttling has its own tests
    objects = one_of_everything(brand)
    headers = {"Authorization": f"Bearer {key_client(brand, 'read,write,admin,owners').raw_key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler(), headers={"Accept": "application/json"})
    until, findings, left_out, operations = time.monotonic() + SECONDS, [], [], 0

    for result in schema.get_all_operations():
        operation = result.ok()  # an operation the schema describes wrongly raises here, naming it
        operations += 1
        for kind, cases in strategies(operation, objects):
            if time.monotonic() > until:
                left_out.append(f"{operation.label} ({kind})")
                continue

            @BOUNDED
            @given(case=cases)
            def calls(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                calls()
            except (Exception, FailureGroup) as finding:  # noqa: BLE001 - every operation's findings are gathered
                findings.append(f"{operation.label} ({kind}):\n{shortened(str(finding))}")

    assert operations, "the schema lists no operation"
    if left_out:
        warnings.warn(f"API fuzzing budget spent, not run: {', '.join(left_out)}", stacklevel=1)
    assert not findings, "\n\n".join(findings)
