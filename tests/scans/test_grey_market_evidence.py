"""Every scan of an assigned unit records who held it and whether it was scanned outside their territory."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from codes.models import Code
from distributors import services
from distributors.queries import current_ranges
from scans.models import Scan
from tests.factories import DistributorFactory, ProductFactory, ready_batch
from tests.scans.test_verify import KUALA_LUMPUR_IP, qr_path, scan

JOHOR_BAHRU_IP = "175.136.224.1"  # MY-01 in the packaged GeoLite2 data
SINGAPORE_UNKNOWN_IP = "8.8.8.8"


@pytest.fixture
def batch(brand):
    return ready_batch(ProductFactory(brand=brand, gtin="09506000134352"), quantity=40, activated=True)


@pytest.fixture
def kl_selangor(brand, batch):
    distributor = DistributorFactory(brand=brand, name="KL Wholesale", code="KL", territory=["MY-10", "MY-14"])
    services.assign_range(batch=batch, distributor=distributor, first_position=1, last_position=20)
    return distributor


def unit(batch, position):
    return Code.objects.select_related("batch__lot", "product").get(
        batch=batch, ordinal=batch.first_ordinal + position - 1
    )


def test_scan_in_johor_of_a_kl_selangor_unit_is_out_of_territory(batch, kl_selangor):
    scan(qr_path(unit(batch, 5)), ip=JOHOR_BAHRU_IP)
    logged = Scan.objects.get()
    assert (logged.region_code, logged.distributor, logged.out_of_territory) == ("MY-01", kl_selangor, True)


def test_scan_in_kuala_lumpur_of_a_kl_selangor_unit_is_inside(batch, kl_selangor):
    scan(qr_path(unit(batch, 5)), ip=KUALA_LUMPUR_IP, json=True)
    logged = Scan.objects.get()
    assert (logged.region_code, logged.distributor, logged.out_of_territory) == ("MY-14", kl_selangor, False)


def test_unassigned_unit_has_no_distributor(batch, kl_selangor):
    scan(qr_path(unit(batch, 30)), ip=JOHOR_BAHRU_IP)
    assert Scan.objects.values_list("distributor", "out_of_territory").get() == (None, False)


def test_consumer_verdict_never_names_the_distributor_nor_changes(batch, kl_selangor):
    inside = scan(qr_path(unit(batch, 5)), ip=KUALA_LUMPUR_IP, json=True).json()
    outside = scan(qr_path(unit(batch, 6)), ip=JOHOR_BAHRU_IP, json=True).json()
    assert inside["authentic"] is outside["authentic"] is True and outside["warnings"] == []
    page = scan(qr_path(unit(batch, 7)), ip=JOHOR_BAHRU_IP).content.decode()
    assert "KL Wholesale" not in page and "KL Wholesale" not in str(outside) and "distributor" not in outside


def test_a_moved_unit_is_evidence_against_its_new_holder(batch, kl_selangor):
    johor = DistributorFactory(brand=batch.product.brand, code="JHR", territory=["MY-01"])
    services.reassign_range(batch=batch, first_position=1, last_position=10, to=johor)
    from scans.products import product_cache

    product_cache.clear()  # another process would see it once its product cache entry expires
    scan(qr_path(unit(batch, 5)), ip=JOHOR_BAHRU_IP)
    assert Scan.objects.values_list("distributor", "out_of_territory").get() == (johor.pk, False)


def test_precise_location_moves_the_scan_out_of_territory(batch, kl_selangor):
    response = scan(qr_path(unit(batch, 5)), ip=KUALA_LUMPUR_IP)
    assert Scan.objects.get().out_of_territory is False
    token = response.context["locate_token"]
    located = Client().post("/verify/locate/", {"token": token, "lat": "1.4927", "lon": "103.7414"})  # Johor Bahru
    assert located.json()["located"] is True
    assert Scan.objects.values_list("region_code", "out_of_territory").get() == ("MY-01", True)


def test_lookup_adds_no_query_to_the_verify_path(batch, kl_selangor, django_assert_num_queries):
    scan(qr_path(unit(batch, 1)))  # warms the per-process product cache, assignments included
    path = qr_path(unit(batch, 2))
    expected = 1 if connection.vendor == "postgresql" else 2  # one statement on PostgreSQL; UPDATE + INSERT else
    with django_assert_num_queries(expected):
        scan(path, ip=JOHOR_BAHRU_IP, json=True)
    assert Scan.objects.filter(out_of_territory=True).count() == 1


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_loading_a_products_ranges_uses_indexes_on_a_large_assignments_table(brand):
    product = ProductFactory(brand=brand)
    target = ready_batch(product, quantity=10, activated=True)
    others = [ready_batch(ProductFactory(brand=brand), quantity=1, activated=True) for _ in range(3)]
    distributor = DistributorFactory(brand=brand)
    with connection.cursor() as cursor:  # 60,000 assignments of other batches, ended and current
        cursor.execute(
            "INSERT INTO distributors_assignment (batch_id, distributor_id, first_position, last_position, "
            "shipment_reference, assigned_at, end_reason, ended_at) "
            "SELECT %s, %s, n, n, '', now(), CASE WHEN n %% 2 = 0 THEN 'moved' ELSE '' END, "
            "CASE WHEN n %% 2 = 0 THEN now() END FROM generate_series(1, 20000) AS n",
            [others[0].pk, distributor.pk],
        )
        for other in others[1:]:
            cursor.execute(
                "INSERT INTO distributors_assignment (batch_id, distributor_id, first_position, last_position, "
                "shipment_reference, assigned_at, end_reason) "
                "SELECT %s, %s, n, n, '', now(), '' FROM generate_series(1, 20000) AS n",
                [other.pk, distributor.pk],
            )
        cursor.execute("ANALYZE distributors_assignment")
    services.assign_range(batch=target, distributor=distributor, first_position=1, last_position=10)
    assert [r[:3] for r in current_ranges([target.pk])] == [(target.pk, 1, 10)]
    with CaptureQueriesContext(connection) as captured:
        current_ranges([target.pk])
    with connection.cursor() as cursor:
        sql = captured.captured_queries[0]["sql"]
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan on distributors_assignment" not in plan and "Index Scan" in plan, plan
