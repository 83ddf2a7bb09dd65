"""A trading partner's verification request (DSCSA, GS1 Lightweight Messaging R1.3), answered from the unit's
live row: each case a partner can meet, who may ask, and what the request leaves behind."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from brands.apikeys import revoke_api_key
from codes.models import Code
from scans.models import Scan
from tests.api.conftest import key_client
from tests.factories import LotFactory, ProductFactory, applied_recall, detection_settings_of, ready_batch
from vrs.models import VrsRequest

from .conftest import BRAND_GLN, EXPIRED_ON, OTHER_GLN, PARTNER_GLN, ask

pytestmark = pytest.mark.django_db


def data(response):
    assert response.status_code == 200, response.status_code
    return response.json()["data"]


def test_a_genuine_unit_is_verified_with_who_answered_and_the_requesters_correlation_id(partner, unit):
    response = ask(partner, unit, corrUUID="6f1d7a5e-2f0c-4a4b-9d3e-0d6f3b2a9c11")
    body = response.json()
    assert body["data"] == {"verified": True}
    assert (body["responderGLN"], body["corrUUID"]) == (BRAND_GLN, "6f1d7a5e-2f0c-4a4b-9d3e-0d6f3b2a9c11")
    assert body["verificationTimestamp"].endswith("Z")
    assert response["Cache-Control"] == "private, no-cache"


def test_an_unknown_serial_is_no_match_of_gtin_and_serial(partner, unit):
    assert data(ask(partner, unit, serial="ZZZZZZZZZZZZ")) == {
        "verified": False,
        "verificationFailureReason": "No_match_GTIN_Serial",
    }


def test_a_lot_that_is_not_the_units_is_a_lot_mismatch(partner, unit):
    assert data(ask(partner, unit, lot="L2026B"))["verificationFailureReason"] == "No_match_GTIN_Serial_Lot"


def test_an_expiry_that_is_not_the_units_is_an_expiry_mismatch(partner, unit):
    assert data(ask(partner, unit, exp="291231"))["verificationFailureReason"] == "No_match_GTIN_Serial_Expiry"


def test_lot_and_expiry_both_wrong_say_so_together(partner, unit):
    answer = data(ask(partner, unit, lot="L2026B", exp="291231"))
    assert answer == {"verified": False, "verificationFailureReason": "No_match_GTIN_Serial_Lot_Expiry"}


def test_an_expiry_written_with_day_00_means_the_end_of_that_month(partner, responder):
    product = ProductFactory(brand=responder)
    lot = LotFactory(product=product, expires_on=EXPIRED_ON.replace(year=2031))
    code = Code.objects.filter(batch=ready_batch(product, quantity=2, lot=lot, activated=True)).first()
    assert data(ask(partner, code, exp="310100")) == {"verified": True}


def test_a_unit_recalled_after_a_first_answer_is_recalled_on_the_very_next(partner, batch, unit):
    assert data(ask(partner, unit)) == {"verified": True}
    applied_recall(batch)
    assert data(ask(partner, unit)) == {"verified": True, "additionalInfo": "Recalled"}


def test_a_unit_past_its_expiry_is_verified_and_expired(partner, responder):
    product = ProductFactory(brand=responder)
    batch = ready_batch(product, quantity=2, lot=LotFactory(product=product, expires_on=EXPIRED_ON), activated=True)
    code = Code.objects.filter(batch=batch).first()
    assert data(ask(partner, code, exp="240131")) == {"verified": True, "additionalInfo": "Expired"}


def test_a_serial_presented_by_more_holders_than_detection_allows_is_suspect(responder, partner, unit):
    detection_settings_of(responder, max_devices=1)
    phone = Client().get(
        f"/01/{unit.product.gtin}/21/{unit.serial}", HTTP_ACCEPT="application/json", REMOTE_ADDR="175.139.1.1"
    )
    assert phone.json()["authentic"] is True
    assert data(ask(partner, unit)) == {"verified": True, "additionalInfo": "Suspect"}
    assert Code.objects.get(pk=unit.pk).suspect_at is not None  # flagged for consumers too


def test_a_label_of_a_unit_never_released_is_suspect(partner, responder):
    code = Code.objects.filter(batch=ready_batch(ProductFactory(brand=responder), quantity=2)).first()
    assert data(ask(partner, code)) == {"verified": True, "additionalInfo": "Suspect"}


def test_a_stolen_unit_is_illegitimate_and_a_dispensed_one_not_for_redistribution(partner, unit, batch):
    Code.objects.filter(pk=unit.pk).update(status="stolen")
    assert data(ask(partner, unit)) == {"verified": True, "additionalInfo": "Illegitimate"}
    Code.objects.filter(pk=unit.pk).update(status="dispensed")
    assert data(ask(partner, unit))["verificationFailureReason"] == "Not_for_re-distribution"


def test_another_brands_unit_is_no_match_for_this_brands_partner(partner, other_brand):
    theirs = Code.objects.filter(batch=ready_batch(ProductFactory(brand=other_brand), quantity=2, activated=True))
    assert data(ask(partner, theirs.first()))["verificationFailureReason"] == "No_match_GTIN_Serial"


def test_a_lot_with_a_slash_is_read_from_the_encoded_path(partner, responder):
    product = ProductFactory(brand=responder)
    batch = ready_batch(product, quantity=2, lot=LotFactory(product=product, number="A/B-7"), activated=True)
    assert data(ask(partner, Code.objects.filter(batch=batch).first())) == {"verified": True}


# --- who may ask -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "Bearer srz_0000_unknown", "Basic dXNlcjpwYXNz"])
def test_no_or_an_unknown_credential_is_401_without_a_body(unit, authorization):
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    response = ask(client, unit)
    assert (response.status_code, response.content) == (401, b"")
    assert response["WWW-Authenticate"] == 'Bearer realm="vrs"'
    assert not VrsRequest.objects.exists()


def test_a_revoked_key_is_401(partner, unit):
    revoke_api_key(key=partner.key)
    assert ask(partner, unit).status_code == 401


def test_a_gln_the_key_does_not_carry_is_403_without_a_body(partner, unit):
    for gln in (OTHER_GLN, None):
        response = ask(partner, unit, gln=gln)
        assert (response.status_code, response.content) == (403, b""), gln
    assert not Scan.objects.exists() and not VrsRequest.objects.exists()


def test_a_key_without_the_vrs_scope_is_403_even_with_a_partner_gln(responder, unit):
    reader = key_client(responder, "read", partner_gln=PARTNER_GLN)
    assert ask(reader, unit).status_code == 403


def test_a_malformed_request_is_400_without_a_body_and_logs_nothing(partner, unit):
    for broken in ({"corrUUID": "not-a-uuid"}, {"exp": "301332"}, {"exp": None}):
        response = ask(partner, unit, **broken)
        assert (response.status_code, response.content) == (400, b""), broken
    assert ask(partner, unit, serial="has space").status_code == 400
    assert not VrsRequest.objects.exists()


def test_a_key_over_its_rate_is_429_until_the_window_turns(settings, partner, unit):
    settings.API_KEY_RATE = "2/m"
    assert [ask(partner, unit).status_code for _ in range(3)] == [200, 200, 429]
    assert 0 < int(ask(partner, unit)["Retry-After"]) <= 60


def test_check_connectivity_answers_a_partner_with_the_responders_gln(partner):
    response = partner.get(f"/vrs/checkConnectivity?reqGLN={PARTNER_GLN}")
    assert response.json()["responderGLN"] == BRAND_GLN
    assert response["Cache-Control"] == "private, no-cache"
    assert APIClient().get(f"/vrs/checkConnectivity?reqGLN={PARTNER_GLN}").status_code == 401


# --- what a request leaves behind ------------------------------------------------------------------------


def test_a_partners_request_leaves_the_consumers_first_scan_intact(partner, unit):
    assert data(ask(partner, unit)) == {"verified": True}
    assert Code.objects.get(pk=unit.pk).scan_count == 0
    consumer = Client().get(
        f"/01/{unit.product.gtin}/10/{unit.batch.lot.number}/21/{unit.serial}?17=301231", HTTP_ACCEPT="application/json"
    )
    assert (consumer.json()["first_scan"], consumer.json()["scan_count"]) == (True, 1)


def test_every_request_is_a_trading_partner_scan_and_a_logged_request(partner, unit):
    ask(partner, unit, corrUUID="6f1d7a5e-2f0c-4a4b-9d3e-0d6f3b2a9c11")
    ask(partner, unit, lot="L2026B")
    scans = list(Scan.objects.order_by("pk").values_list("source", "outcome", "code_id"))
    assert scans == [("partner", "authentic", unit.pk), ("partner", "not_recognised", None)]
    first, second = VrsRequest.objects.order_by("pk")
    assert (first.requester_gln, first.corr_uuid, first.context, first.code_id) == (
        PARTNER_GLN,
        "6f1d7a5e-2f0c-4a4b-9d3e-0d6f3b2a9c11",
        "dscsaSaleableReturn",
        unit.pk,
    )
    assert (second.verified, second.failure_reason, second.lot) == (False, "No_match_GTIN_Serial_Lot", "L2026B")
    assert first.requested_at > timezone.now() - timedelta(minutes=1)


def test_a_partner_asking_for_a_recalled_unit_raises_a_late_scan_alert(
    partner, batch, unit, django_capture_on_commit_callbacks, eager_tasks
):
    from scans.models import Alert

    applied_recall(batch)
    with django_capture_on_commit_callbacks(execute=True):
        ask(partner, unit)
    assert list(Alert.objects.values_list("kind", flat=True)) == ["late_scan"]


def test_a_partners_request_sets_no_session_carries_no_page_headers_and_still_checks_the_host(partner, unit):
    response = ask(partner, unit)
    assert response.status_code == 200 and "sessionid" not in response.cookies
    assert "Content-Security-Policy" not in response and "X-Frame-Options" not in response
    assert response["X-Content-Type-Options"] == "nosniff"
    partner.raise_request_exception = False
    assert partner.get(f"/vrs/checkConnectivity?reqGLN={PARTNER_GLN}", HTTP_HOST="evil.example").status_code == 400
