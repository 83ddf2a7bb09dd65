"""Activation: a batch, a range of its positions or a carton goes live when it is marked applied (dashboard, the
`activate` and `generate_codes --activate` commands) or, for a brand that chooses it, received by a distributor.
Set-based, audited in the status-change trail, and a repeat does nothing."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from brands.models import Activation
from codes import activation, recalls
from codes.models import Code, CodeBatch, StatusChange
from distributors import services as distributor_services
from tests.factories import (
    DistributorFactory,
    ProductFactory,
    activate,
    distributor_member,
    logged_in_client,
    ready_batch,
)


def statuses(batch) -> list[str]:
    return list(Code.objects.filter(batch=batch).order_by("ordinal").values_list("status", flat=True))


@pytest.fixture
def batch(brand):
    return ready_batch(ProductFactory(brand=brand, gtin="09506000134352"), quantity=10)


def test_new_codes_are_not_activated(batch):
    assert statuses(batch) == ["not_activated"] * 10 and batch.codes_activated == 0


def test_activating_a_range_makes_exactly_those_positions_live_and_says_who(batch, owner):
    change = activation.activate(
        brand=batch.product.brand, batch=batch, first_position=3, last_position=5, by=owner.user
    )
    assert statuses(batch) == ["not_activated"] * 2 + ["active"] * 3 + ["not_activated"] * 5
    assert (change.to_status, change.first_position, change.last_position, change.created_by) == (
        "active",
        3,
        5,
        owner.user,
    )
    assert (change.codes_changed, change.from_counts, change.reason) == (3, {"not_activated": 3}, "Labels applied")
    assert CodeBatch.objects.get(pk=batch.pk).codes_activated == 3


def test_a_repeat_activation_changes_nothing_and_records_nothing(batch):
    activate(batch)
    assert activation.activate(brand=batch.product.brand, batch=batch) is None
    assert activation.activate(brand=batch.product.brand, batch=batch, first_position=4, last_position=6) is None
    assert StatusChange.objects.count() == 1 and CodeBatch.objects.get(pk=batch.pk).codes_activated == 10


def test_a_large_activation_is_a_few_set_based_updates_not_one_per_code(batch, settings):
    settings.CODES_CHUNK_SIZE = 4
    with CaptureQueriesContext(connection) as queries:
        change = activation.activate(brand=batch.product.brand, batch=batch, enqueue=False)
    sweeps = [q["sql"] for q in queries if f"UPDATE {Code._meta.db_table} SET previous_status" in q["sql"]]
    assert len(sweeps) == 3 and change.codes_changed == 10  # 4 + 4 + 2, each chunk one statement
    assert statuses(batch) == ["active"] * 10


def test_a_large_activation_from_a_page_goes_to_a_worker(batch, settings, django_capture_on_commit_callbacks):
    settings.CODES_CHUNK_SIZE = 4
    with django_capture_on_commit_callbacks() as callbacks:
        change = activation.activate(brand=batch.product.brand, batch=batch)
    assert change.state == "queued" and len(callbacks) == 1 and statuses(batch) == ["not_activated"] * 10


def test_positions_outside_the_batch_are_refused(batch):
    with pytest.raises(recalls.ChangeError) as refused:
        activation.activate(brand=batch.product.brand, batch=batch, first_position=8, last_position=11)
    assert "Positions run from 1 to 10" in refused.value.message and statuses(batch) == ["not_activated"] * 10


def test_another_brands_batch_cannot_be_activated(batch, other_brand):
    with pytest.raises(recalls.ChangeError):
        activation.activate(brand=other_brand, batch=batch)


def test_other_status_changes_leave_units_not_activated_alone_but_a_recall_reaches_them(batch):
    activate(batch, first=1, last=2)
    locked = recalls.plan_change(
        brand=batch.product.brand, to_status="locked", batch=batch, reason="Audit", enqueue=False
    )
    recalls.apply_change(locked.pk)
    assert statuses(batch) == ["locked"] * 2 + ["not_activated"] * 8
    recall = recalls.recall(brand=batch.product.brand, batch=batch, reason="Leaked print file", enqueue=False)
    recalls.apply_change(recall.pk)
    assert statuses(batch) == ["recalled"] * 10


def test_nobody_can_ask_for_active_or_not_activated_as_a_status_change(batch):
    for status in ("active", "not_activated"):
        with pytest.raises(recalls.ChangeError):
            recalls.plan_change(brand=batch.product.brand, to_status=status, batch=batch, reason="x", enqueue=False)


def test_undoing_an_activation_takes_the_units_off_line_again(batch):
    change = activation.activate(brand=batch.product.brand, batch=batch, first_position=1, last_position=4)
    assert recalls.undo_change(change=change) == 4
    assert statuses(batch) == ["not_activated"] * 10 and CodeBatch.objects.get(pk=batch.pk).codes_activated == 0


def test_generate_codes_activate_makes_live_codes(brand):
    product = ProductFactory(brand=brand)
    out = StringIO()
    args = ["--brand", brand.slug, "--gtin", product.gtin, "--lot", "L1", "--quantity", "5"]
    call_command("generate_codes", *args, "--activate", stdout=out)
    result = json.loads(out.getvalue().splitlines()[-1])
    assert result["activated"] == 5 and statuses(CodeBatch.objects.get(pk=result["batch"])) == ["active"] * 5
    call_command("generate_codes", *args, stdout=(out := StringIO()))
    result = json.loads(out.getvalue().splitlines()[-1])
    assert result["activated"] == 0 and statuses(CodeBatch.objects.get(pk=result["batch"])) == ["not_activated"] * 5


def test_activate_command_by_range_then_by_carton(batch):
    brand = batch.product.brand
    out = StringIO()
    call_command("activate", "--brand", brand.slug, "--batch", str(batch.pk), "--from", "1", "--to", "2", stdout=out)
    assert json.loads(out.getvalue().splitlines()[-1])["activated"] == 2
    [carton] = distributor_services.pack_cartons(
        batch=batch, first_position=6, last_position=10, size=5, company_prefix="9506000"
    )
    call_command("activate", "--brand", brand.slug, "--sscc", carton.sscc, stdout=(out := StringIO()))
    assert json.loads(out.getvalue().splitlines()[-1])["activated"] == 5
    assert statuses(batch) == ["active"] * 2 + ["not_activated"] * 3 + ["active"] * 5
    assert StatusChange.objects.order_by("pk").last().reason == f"Carton {carton.sscc}: labels applied"


def test_activate_command_refuses_another_brands_batch(batch, other_brand):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("activate", "--brand", other_brand.slug, "--batch", str(batch.pk), stdout=StringIO())


# --- on a distributor's receipt -----------------------------------------------------------------------------


def test_a_receipt_activates_its_units_when_the_brand_chose_so(batch):
    brand = batch.product.brand
    brand.activation = Activation.RECEIVED
    brand.save(update_fields=["activation"])
    distributor = DistributorFactory(brand=brand)
    assignment = distributor_services.assign_range(
        batch=batch, distributor=distributor, first_position=1, last_position=4
    )
    member = distributor_member(distributor)
    distributor_services.receive_assignment(assignment=assignment, by=member.user)
    assert statuses(batch) == ["active"] * 4 + ["not_activated"] * 6
    change = StatusChange.objects.get()
    assert change.created_by == member.user and "received" in change.reason
    distributor_services.receive_assignment(assignment=assignment, by=member.user)  # a repeat: nothing more
    assert StatusChange.objects.count() == 1


def test_a_receipt_of_a_carton_activates_exactly_its_units(batch):
    brand = batch.product.brand
    brand.activation = Activation.RECEIVED
    brand.save(update_fields=["activation"])
    [first, second] = distributor_services.pack_cartons(
        batch=batch, first_position=1, last_position=10, size=5, company_prefix="9506000"
    )
    distributor_services.receive_carton(carton=second)
    assert statuses(batch) == ["not_activated"] * 5 + ["active"] * 5


def test_the_portal_tells_the_receiver_that_the_units_are_live(batch):
    brand = batch.product.brand
    brand.activation = Activation.RECEIVED
    brand.save(update_fields=["activation"])
    distributor = DistributorFactory(brand=brand)
    assignment = distributor_services.assign_range(
        batch=batch, distributor=distributor, first_position=1, last_position=10
    )
    portal = logged_in_client(distributor_member(distributor))
    page = portal.post(f"/portal/assignments/{assignment.pk}/receive/", follow=True).content.decode()
    assert "(10 units). Their codes now verify as authentic." in page and statuses(batch) == ["active"] * 10


def test_a_receipt_activates_nothing_for_a_brand_that_activates_when_applied(batch):
    distributor = DistributorFactory(brand=batch.product.brand)
    assignment = distributor_services.assign_range(
        batch=batch, distributor=distributor, first_position=1, last_position=4
    )
    distributor_services.receive_assignment(assignment=assignment)
    assert statuses(batch) == ["not_activated"] * 10 and not StatusChange.objects.exists()


def test_the_settings_page_chooses_activation_on_receipt(owner_client, brand):
    data = {"name": brand.name, "colour": "#1f6feb", "consumer_message": "", "activation": "received"}
    assert owner_client.post("/settings/", data).status_code == 302
    brand.refresh_from_db()
    assert brand.activation == "received"
    assert "When a distributor marks a range or carton received" in owner_client.get("/settings/").content.decode()


# --- the dashboard: the batch page and its cartons ---------------------------------------------------------


def test_batch_activate_works(operator_client, batch):
    page = operator_client.get(f"/batches/{batch.pk}/").content.decode()
    assert '<strong id="activated-count">0 of 10</strong>' in page and 'id="activate-form"' in page
    response = operator_client.post(f"/batches/{batch.pk}/activate/", {"first_position": "1", "last_position": "3"})
    assert response.status_code == 302 and response["Location"] == f"/batches/{batch.pk}/"
    page = operator_client.get(f"/batches/{batch.pk}/").content.decode()
    assert "3 units activated: their codes now verify as authentic." in page
    assert '<strong id="activated-count">3 of 10</strong>' in page
    assert page.count('id="id_activate_first_position"') == 1  # its own ids, beside the range forms'
    operator_client.post(f"/batches/{batch.pk}/activate/", {"first_position": "", "last_position": ""})
    assert statuses(batch) == ["active"] * 10
    operator_client.post(f"/batches/{batch.pk}/activate/", {})  # a second click, from a page still open
    page = operator_client.get(f"/batches/{batch.pk}/").content.decode()
    assert "Nothing to activate" in page and 'id="activate-form"' not in page  # every unit is live


def test_batch_activate_refuses_a_bad_range_saying_why(operator_client, batch):
    operator_client.post(f"/batches/{batch.pk}/activate/", {"first_position": "5", "last_position": "50"})
    assert "Positions run from 1 to 10" in operator_client.get(f"/batches/{batch.pk}/").content.decode()
    assert statuses(batch) == ["not_activated"] * 10


def test_batch_activate_checks_ownership(outsider_client, batch):
    assert outsider_client.post(f"/batches/{batch.pk}/activate/").status_code == 404
    assert statuses(batch) == ["not_activated"] * 10


def test_batch_activate_requires_write_role(viewer_client, batch):
    assert 'id="activate-form"' not in viewer_client.get(f"/batches/{batch.pk}/").content.decode()
    assert viewer_client.post(f"/batches/{batch.pk}/activate/").status_code == 403
    assert statuses(batch) == ["not_activated"] * 10


def test_carton_activate_works_checks_ownership_and_requires_write_role(
    operator_client, viewer_client, outsider_client, batch
):
    [carton, _] = distributor_services.pack_cartons(
        batch=batch, first_position=1, last_position=10, size=5, company_prefix="9506000"
    )
    assert f'action="/cartons/{carton.pk}/activate/"' in operator_client.get(f"/batches/{batch.pk}/").content.decode()
    assert outsider_client.post(f"/cartons/{carton.pk}/activate/").status_code == 404
    assert viewer_client.post(f"/cartons/{carton.pk}/activate/").status_code == 403
    assert statuses(batch) == ["not_activated"] * 10
    assert operator_client.post(f"/cartons/{carton.pk}/activate/").status_code == 302
    assert statuses(batch) == ["active"] * 5 + ["not_activated"] * 5


def test_a_distributor_cannot_activate(batch):
    distributor = DistributorFactory(brand=batch.product.brand)
    distributor_services.assign_range(batch=batch, distributor=distributor, first_position=1, last_position=10)
    client = logged_in_client(distributor_member(distributor))
    assert client.post(f"/batches/{batch.pk}/activate/").status_code == 404  # a page of the other world
    assert statuses(batch) == ["not_activated"] * 10
