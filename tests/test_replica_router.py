"""With a read replica configured, the dashboard's reads go to it; the verify path and every write stay on the
primary. The replica alias mirrors the test database (TEST MIRROR) but has a connection of its own, so which
alias ran a query shows on that connection."""

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import ProductFactory, ready_batch

REPLICA_ROUTER = ["core.routers.ReplicaRouter"]


def tables(queries: CaptureQueriesContext, verb: str) -> str:
    return " ".join(q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(verb))


@pytest.fixture
def with_replica(settings):
    settings.DATABASE_ROUTERS = REPLICA_ROUTER
    primary, replica = CaptureQueriesContext(connections["default"]), CaptureQueriesContext(connections["replica"])
    with primary, replica:
        yield primary, replica


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_the_overview_reads_from_the_replica(owner_client, brand, with_replica):
    primary, replica = with_replica
    response = owner_client.get("/dashboard/")
    assert response.status_code == 200
    assert "scans_dailyscans" in tables(replica, "SELECT") and "scans_scan" in tables(replica, "SELECT")
    assert "scans_dailyscans" not in tables(primary, "SELECT")
    assert "django_session" in tables(primary, "SELECT")  # who asks is checked on the primary


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_verify_reads_and_writes_on_the_primary_only(brand, with_replica):
    code = ready_batch(ProductFactory(brand=brand), quantity=3, activated=True).codes.order_by("ordinal").first()
    primary, replica = with_replica
    response = Client().get(f"/01/{code.product.gtin}/21/{code.serial}", HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response.json()["authentic"]
    assert "INSERT INTO scans_scan" in tables(primary, "WITH") + tables(primary, "INSERT")
    assert replica.captured_queries == []
