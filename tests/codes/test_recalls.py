import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from codes import recalls
from codes.models import ChangeState, Code, CodeStatus, StatusChange
from tests.factories import LotFactory, ProductFactory, applied_recall, ready_batch
from tests.scans.test_verify import qr_path, scan


def statuses(batch):
    return list(Code.objects.filter(batch=batch).order_by("ordinal").values_list("status", flat=True))


def test_a_range_recall_flips_exactly_those_positions(brand):
    batch = ready_batch(ProductFactory(brand=brand), quantity=20, activated=True)
    change = applied_recall(batch, first=3, last=7)
    assert statuses(batch) == ["active"] * 2 + ["recalled"] * 5 + ["active"] * 13
    assert (change.state, change.codes_changed, change.from_counts) == ("done", 5, {"active": 5})


def test_a_lot_recall_spans_its_batches_in_chunks_and_a_repeat_changes_nothing(brand):
    product = ProductFactory(brand=brand)
    lot = LotFactory(product=product)
    first, other, second = (
        ready_batch(product, quantity=7, lot=lot, activated=True),
        ready_batch(product, quantity=3, activated=True),
        ready_batch(product, quantity=6, lot=lot, activated=True),
    )
    change = recalls.recall(brand=brand, lot=lot, reason="Mislabelled", enqueue=False)
    change = recalls.apply_change(change.pk, chunk_size=4)  # chunks never cross a batch boundary
    assert change.codes_done == change.codes_changed == 13
    assert set(statuses(first) + statuses(second)) == {"recalled"} and set(statuses(other)) == {"active"}
    StatusChange.objects.filter(pk=change.pk).update(state=ChangeState.QUEUED, codes_done=0)
    assert recalls.apply_change(change.pk).codes_changed == 13  # nothing more changed


def test_a_batch_still_being_generated_cannot_be_recalled_yet(brand):
    from codes import services

    product = ProductFactory(brand=brand)
    queued = services.order_batch(product=product, lot=LotFactory(product=product), quantity=5, enqueue=False)
    with pytest.raises(recalls.ChangeError, match="still being generated"):
        recalls.recall(brand=brand, lot=queued.lot, reason="x", enqueue=False)
    assert not StatusChange.objects.exists()


def test_final_states_are_left_alone(brand):
    batch = ready_batch(ProductFactory(brand=brand), quantity=4, activated=True)
    Code.objects.filter(batch=batch, ordinal=batch.first_ordinal).update(status=CodeStatus.DESTROYED)
    change = applied_recall(batch)
    assert statuses(batch) == ["destroyed", "recalled", "recalled", "recalled"] and change.codes_changed == 3


def test_recall_command_by_lot_then_verify_says_recalled(brand):
    product = ProductFactory(brand=brand, gtin="09506000134352")
    batch = ready_batch(product, quantity=5, activated=True)
    out = StringIO()
    call_command(
        "recall",
        "--brand",
        brand.slug,
        "--lot",
        batch.lot.number,
        "--gtin",
        "9506000134352",
        "--reason",
        "Glass",
        "--message",
        "Return it for a refund.",
        stdout=out,
        stderr=StringIO(),
    )
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result == {"recall": StatusChange.objects.get(to_status="recalled").pk, "codes": 5}
    code = Code.objects.select_related("batch__lot", "product").filter(batch=batch).first()
    data = scan(qr_path(code), json=True).json()
    assert data["status"] == "recalled" and data["warnings"][0]["code"] == "recalled"
    assert data["warnings"][0]["message"].endswith("Return it for a refund.")


def test_recall_command_by_batch_range_and_by_serials(brand):
    batch = ready_batch(ProductFactory(brand=brand), quantity=10, activated=True)
    out = StringIO()
    call_command(
        "recall",
        "--brand",
        brand.slug,
        "--batch",
        str(batch.pk),
        "--from",
        "9",
        "--to",
        "10",
        "--reason",
        "x",
        stdout=out,
        stderr=StringIO(),
    )
    assert json.loads(out.getvalue().splitlines()[-1])["codes"] == 2
    serials = list(Code.objects.filter(batch=batch).order_by("ordinal").values_list("serial", flat=True)[:2])
    out = StringIO()
    call_command(
        "recall",
        "--brand",
        brand.slug,
        "--gtin",
        batch.product.gtin,
        "--serial",
        serials[0],
        "--serial",
        serials[1].lower(),
        "--reason",
        "x",
        stdout=out,
        stderr=StringIO(),
    )
    assert json.loads(out.getvalue().splitlines()[-1])["codes"] == 2
    assert statuses(batch) == ["recalled"] * 2 + ["active"] * 6 + ["recalled"] * 2


@pytest.mark.parametrize(
    "args",
    [
        ["--batch", "999999"],
        ["--lot", "NOPE", "--gtin", "09506000134352"],
        ["--batch", "{batch}", "--from", "0", "--to", "3"],
        ["--batch", "{batch}", "--from", "4", "--to", "99"],
    ],
)
def test_recall_command_refuses_bad_scopes(brand, args):
    from django.core.management.base import CommandError

    batch = ready_batch(ProductFactory(brand=brand, gtin="09506000134352"), quantity=5, activated=True)
    with pytest.raises(CommandError):
        call_command("recall", "--brand", brand.slug, *[a.format(batch=batch.pk) for a in args], "--reason", "x")
    assert set(statuses(batch)) == {"active"}


def test_an_undo_restores_the_previous_states_within_ten_days_only(brand, owner):
    batch = ready_batch(ProductFactory(brand=brand), quantity=4, activated=True)
    Code.objects.filter(batch=batch, ordinal=batch.first_ordinal).update(status=CodeStatus.SAMPLE)
    change = recalls.apply_change(
        recalls.plan_change(brand=brand, batch=batch, to_status="decommissioned", reason="Line test", enqueue=False).pk
    )
    with pytest.raises(recalls.ChangeError, match="10 days"):
        recalls.undo_change(change=change, by=owner.user, now=timezone.now() + timedelta(days=11))
    assert recalls.undo_change(change=change, by=owner.user) == 4
    assert statuses(batch) == ["sample", "active", "active", "active"]
    with pytest.raises(recalls.ChangeError, match="already"):
        recalls.undo_change(change=change, by=owner.user)


@pytest.mark.parametrize("final", ["recalled", "stolen", "destroyed", "withdrawn"])
def test_never_undone_out_of_a_final_state(brand, final):
    batch = ready_batch(ProductFactory(brand=brand), quantity=2, activated=True)
    change = recalls.apply_change(
        recalls.plan_change(brand=brand, batch=batch, to_status=final, reason="x", enqueue=False).pk
    )
    with pytest.raises(recalls.ChangeError, match="final"):
        recalls.undo_change(change=change)
    assert set(statuses(batch)) == {final}


def test_recall_report_lists_only_scans_after_the_recall(brand, owner_client):
    product = ProductFactory(brand=brand, gtin="09506000134352")
    batch = ready_batch(product, quantity=5, activated=True)
    codes = list(Code.objects.select_related("batch__lot", "product").filter(batch=batch).order_by("ordinal"))
    scan(qr_path(codes[1]))  # before the recall
    change = applied_recall(batch, first=2, last=3)
    scan(qr_path(codes[1]), ip="171.64.0.1")
    scan(qr_path(codes[4]))  # not recalled
    response = owner_client.get(f"/recalls/{change.pk}/report.csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("scanned_at,gtin,serial,lot,position")
    assert (
        len(lines) == 2
        and f',{codes[1].serial},{batch.lot.number},2,inactive,"Stanford, California, US",US-CA,US,qr' in lines[1]
    )
    assert "1 scan of 1 unit" in owner_client.get(f"/recalls/{change.pk}/").content.decode()


def test_recall_pages_by_role(brand, owner_client, viewer_client):
    batch = ready_batch(ProductFactory(brand=brand), quantity=5)  # a recall reaches units not yet activated too
    form = {
        "to_status": "recalled",
        "scope": "batch",
        "batch": batch.pk,
        "first_position": 2,
        "last_position": 4,
        "reason": "Seal defect",
    }
    assert viewer_client.post("/recalls/new/", form).status_code == 403
    response = owner_client.post("/recalls/new/", form)  # queued for a worker (after commit)
    change = StatusChange.objects.get()
    assert response.status_code == 302 and change.quantity == 3 and change.state == "queued"
    assert "Seal defect" in viewer_client.get(f"/recalls/{change.pk}/").content.decode()
    assert viewer_client.get("/recalls/").status_code == 200


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_recall_from_the_dashboard_runs_in_a_worker_with_progress():
    from brands.models import Role
    from tests.conftest import _client_for
    from tests.factories import BrandFactory, MembershipFactory
    from tests.processes import Worker, env_for_test_database, purge_queue, wait_for

    brand = BrandFactory()
    client = _client_for(MembershipFactory(brand=brand, role=Role.ADMIN))
    batch = ready_batch(ProductFactory(brand=brand), quantity=3_000)
    purge_queue(env_for_test_database())
    worker = Worker(CODES_CHUNK_SIZE=500).start()
    try:
        client.post(
            "/recalls/new/",
            {
                "to_status": "recalled",
                "scope": "batch",
                "batch": batch.pk,
                "first_position": 101,
                "last_position": 2_100,
                "reason": "Worker test",
            },
        )
        change = StatusChange.objects.get()
        wait_for(lambda: client.get(f"/recalls/{change.pk}/progress/").json()["finished"], 60)
    finally:
        worker.stop()
    progress = client.get(f"/recalls/{change.pk}/progress/").json()
    assert progress == {
        "state": "done",
        "codes_done": 2_000,
        "codes_changed": 2_000,
        "quantity": 2_000,
        "percent": 100,
        "finished": True,
    }
    assert Code.objects.filter(batch=batch, status="recalled").count() == 2_000


RECALL_FORM = {"to_status": "recalled", "scope": "batch", "first_position": 1, "last_position": 2, "reason": "Seal"}


def test_the_recall_form_groups_each_scopes_fields_for_the_page_to_show_only_the_chosen_one(owner_client):
    page = owner_client.get("/recalls/new/").content.decode()
    assert '<div data-scopes="lot serials">' in page and page.count('<div data-scopes="batch">') == 3
    assert '<div data-scopes="lot">' in page and '<div data-scopes="serials">' in page
    assert 'src="/static/js/recall_form.js"' in page and "<script>" not in page  # CSP: no inline script


def test_the_recall_form_still_asks_for_the_chosen_scopes_fields(brand, owner_client):
    response = owner_client.post("/recalls/new/", {**RECALL_FORM, "scope": "lot", "reason": "Seal"})
    assert response.status_code == 200 and "Choose the product." in response.content.decode()
    assert not StatusChange.objects.exists()


def test_a_recall_message_reaches_each_scanner_in_their_language_else_the_default(brand, owner_client):
    batch = ready_batch(ProductFactory(brand=brand), quantity=3, activated=True)
    response = owner_client.post(
        "/recalls/new/",
        {
            **RECALL_FORM,
            "batch": batch.pk,
            "consumer_message": "Return it to any pharmacy for a refund.",
            "consumer_message_ms": "Pulangkan ke mana-mana farmasi untuk bayaran balik.",
        },
    )
    change = StatusChange.objects.get(to_status="recalled")
    assert response.status_code == 302 and change.consumer_messages == {
        "ms": "Pulangkan ke mana-mana farmasi untuk bayaran balik."
    }
    recalls.apply_change(change.pk)
    code = Code.objects.filter(batch=batch).select_related("product", "batch__lot").order_by("ordinal").first()
    malay = scan(qr_path(code), HTTP_ACCEPT_LANGUAGE="ms").content.decode()
    assert "Pulangkan ke mana-mana farmasi untuk bayaran balik." in malay and "any pharmacy" not in malay
    [warning] = scan(qr_path(code), json=True, HTTP_ACCEPT_LANGUAGE="ms").json()["warnings"]
    assert warning["message"].endswith("Pulangkan ke mana-mana farmasi untuk bayaran balik.")
    for language in ("en", "zh-hans"):  # no Chinese message: the default one
        page = scan(qr_path(code), HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert "Return it to any pharmacy for a refund." in page and "Pulangkan" not in page
    detail = owner_client.get(f"/recalls/{change.pk}/").content.decode()
    assert "Consumers reading Malay (Bahasa Melayu) see: Pulangkan" in detail


def test_a_recall_refuses_a_message_in_a_language_the_verify_page_does_not_speak(brand):
    batch = ready_batch(ProductFactory(brand=brand), quantity=3, activated=True)
    with pytest.raises(recalls.ChangeError) as refused:
        recalls.recall(brand=brand, batch=batch, reason="Seal", consumer_messages={"fr": "Rapportez."}, enqueue=False)
    assert refused.value.field == "consumer_messages"


def test_the_recall_page_says_in_words_where_late_scans_came_from(brand, owner_client):
    batch = ready_batch(ProductFactory(brand=brand), quantity=3, activated=True)
    change = applied_recall(batch)
    code = Code.objects.filter(batch=batch).select_related("product", "batch__lot").first()
    scan(qr_path(code))  # Kuala Lumpur
    scan(qr_path(code), ip="192.0.2.7")  # an address no location data places
    page = owner_client.get(f"/recalls/{change.pk}/").content.decode()
    assert "Scans by country: " in page and "?:" not in page
    assert "Malaysia 1 scan" in page and "country not known (no location) 1 scan" in page


def test_an_undo_that_restores_nothing_says_so(brand, owner_client):
    batch = ready_batch(ProductFactory(brand=brand), quantity=2)
    first = recalls.apply_change(
        recalls.plan_change(brand=brand, batch=batch, to_status="decommissioned", reason="Line", enqueue=False).pk
    )
    recalls.apply_change(
        recalls.plan_change(brand=brand, batch=batch, to_status="stolen", reason="x", enqueue=False).pk
    )
    page = owner_client.post(f"/recalls/{first.pk}/undo/", follow=True).content.decode()
    assert "Nothing was restored" in page and set(statuses(batch)) == {"stolen"}


def test_a_recalled_lot_refuses_new_batches(brand, operator_client):
    from codes import services

    batch = ready_batch(ProductFactory(brand=brand), quantity=2)
    recalls.apply_change(recalls.recall(brand=brand, lot=batch.lot, reason="Contamination", enqueue=False).pk)
    with pytest.raises(services.OrderError, match="recalled"):
        services.order_batch(product=batch.product, lot=batch.lot, quantity=5, enqueue=False)
    response = operator_client.post(
        f"/products/{batch.product_id}/batches/new/",
        {"lot_number": batch.lot.number, "expires_on": str(batch.lot.expires_on or ""), "quantity": "5"},
    )
    assert "recalled" in str(response.context["form"].errors["lot_number"])
    assert batch.product.batches.count() == 1


def test_a_stalled_recall_offers_resume_and_resuming_finishes_it(
    brand, owner_client, viewer_client, outsider_client, eager_tasks, django_capture_on_commit_callbacks
):
    """A recall whose worker died mid-way (running, its heartbeat old): the page says so and offers Resume;
    resuming carries on from the last committed units. A recall a worker is moving offers nothing."""
    batch = ready_batch(ProductFactory(brand=brand), quantity=10)
    change = recalls.recall(brand=brand, batch=batch, reason="Seal defect", enqueue=False)
    StatusChange.objects.filter(pk=change.pk).update(state=ChangeState.RUNNING, heartbeat_at=timezone.now())
    assert "Resume" not in owner_client.get(f"/recalls/{change.pk}/").content.decode()
    assert not recalls.resume_change(change)  # a worker is on it
    StatusChange.objects.filter(pk=change.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=10))
    assert "Resume" in owner_client.get(f"/recalls/{change.pk}/").content.decode()
    assert viewer_client.post(f"/recalls/{change.pk}/resume/").status_code == 403
    assert outsider_client.post(f"/recalls/{change.pk}/resume/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        page = owner_client.post(f"/recalls/{change.pk}/resume/", follow=True).content.decode()
    assert "Resumed" in page
    change.refresh_from_db()
    assert change.state == ChangeState.DONE and change.codes_changed == 10
    assert Code.objects.filter(batch=batch, status=CodeStatus.RECALLED).count() == 10
    page = owner_client.post(f"/recalls/{change.pk}/resume/", follow=True).content.decode()
    assert "Nothing to resume" in page


def test_a_failed_recall_is_resumed_where_it_stopped(brand, eager_tasks, django_capture_on_commit_callbacks):
    batch = ready_batch(ProductFactory(brand=brand), quantity=10)
    change = recalls.recall(brand=brand, batch=batch, reason="Seal defect", enqueue=False)
    recalls.fail_change(change.pk, "Stopped on an internal error; start it again to resume.")
    with django_capture_on_commit_callbacks(execute=True):
        assert recalls.resume_change(StatusChange.objects.get(pk=change.pk))
    change.refresh_from_db()
    assert change.state == ChangeState.DONE and change.error == "" and change.codes_changed == 10
