from datetime import date, timedelta

from codes import services
from codes.models import BatchState, CodeBatch
from codes.tasks import generate_batch_task
from tests.factories import LotFactory, ProductFactory, ready_batch


def order(client, product, **data):
    payload = {"lot_number": "L2026A", "expires_on": "2030-12-31", "quantity": "250", **data}
    return client.post(f"/products/{product.pk}/batches/new/", payload)


def test_operator_orders_a_batch_and_sees_it_generating(operator_client, brand, django_capture_on_commit_callbacks):
    product = ProductFactory(brand=brand)
    with django_capture_on_commit_callbacks() as callbacks:
        response = order(operator_client, product)
    batch = CodeBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/batches/{batch.pk}/"
    assert batch.state == BatchState.QUEUED and batch.quantity == 250 and len(callbacks) == 1  # the worker's task
    page = operator_client.get(f"/batches/{batch.pk}/").content.decode()
    assert '<span id="codes-done">0</span> of 250 codes generated' in page and 'role="progressbar"' in page


def test_progress_endpoint_reports_codes_done(owner_client, brand):
    batch = ready_batch(ProductFactory(brand=brand), quantity=40)
    assert owner_client.get(f"/batches/{batch.pk}/progress/").json() == {
        "state": "ready",
        "state_label": "Ready",
        "codes_done": 40,
        "quantity": 40,
        "percent": 100,
        "finished": True,
    }


def test_a_batch_being_generated_says_so_with_its_percent_not_queued(owner_client, brand):
    product = ProductFactory(brand=brand)
    batch = services.order_batch(product=product, lot=LotFactory(product=product), quantity=250, enqueue=False)
    # A worker has taken the batch and committed its first chunks (what generate_batch writes).
    CodeBatch.objects.filter(pk=batch.pk).update(state=BatchState.GENERATING, codes_done=100)
    page = owner_client.get(f"/batches/{batch.pk}/").content.decode()
    assert 'id="batch-state">Generating 40%</span>' in page and "Queued" not in page
    progress = owner_client.get(f"/batches/{batch.pk}/progress/").json()
    assert (progress["state_label"], progress["percent"]) == ("Generating", 40)


def test_order_form_shows_the_guess_probability_inputs(owner_client, brand):
    product = ProductFactory(brand=brand)
    page = owner_client.get(f"/products/{product.pk}/batches/new/").content.decode()
    assert f'data-space="{32**12}"' in page and "Chance that a random guess" in page


def test_expiry_in_the_past_is_refused(operator_client, brand):
    product = ProductFactory(brand=brand)
    response = order(operator_client, product, expires_on=(date.today() - timedelta(days=1)).isoformat())
    assert "expires_on" in response.context["form"].errors and not CodeBatch.objects.exists()


def test_lot_with_illegal_characters_is_refused(operator_client, brand):
    response = order(operator_client, ProductFactory(brand=brand), lot_number="L#1 é")
    assert "lot_number" in response.context["form"].errors and not CodeBatch.objects.exists()


def test_quantity_above_the_limit_is_refused(operator_client, brand):
    response = order(operator_client, ProductFactory(brand=brand), quantity="10000001")
    assert "quantity" in response.context["form"].errors and not CodeBatch.objects.exists()


def test_viewer_cannot_order(viewer_client, brand):
    assert order(viewer_client, ProductFactory(brand=brand)).status_code == 403
    assert not CodeBatch.objects.exists()


def test_existing_lot_with_other_expiry_is_refused(operator_client, brand):
    product = ProductFactory(brand=brand)
    ready_batch(product, quantity=2, lot=None)
    lot = product.lots.get()
    response = order(operator_client, product, lot_number=lot.number, expires_on="2031-01-01")
    assert "expires_on" in response.context["form"].errors
    assert CodeBatch.objects.count() == 1


def test_failed_batch_is_requeued_and_resumes(operator_client, brand, django_capture_on_commit_callbacks):
    product = ProductFactory(brand=brand)
    batch = services.order_batch(product=product, lot=LotFactory(product=product), quantity=120, enqueue=False)
    services.mark_failed(batch.pk, "worker lost")
    with django_capture_on_commit_callbacks() as callbacks:
        operator_client.post(f"/batches/{batch.pk}/retry/")
    assert CodeBatch.objects.get(pk=batch.pk).state == BatchState.QUEUED and len(callbacks) == 1
    generate_batch_task.apply(args=[batch.pk])  # what the worker runs for the enqueued task
    batch.refresh_from_db()
    assert batch.state == BatchState.READY and batch.codes_done == 120


def test_expiry_beyond_the_gs1_two_digit_year_window_is_refused(operator_client, brand):
    response = order(operator_client, ProductFactory(brand=brand), expires_on="2099-12-31")
    assert "expires_on" in response.context["form"].errors and not CodeBatch.objects.exists()
