"""An owner registers a unit from its verify page: one explicit answer per purpose, recorded with the wording's
version and time; one registration per unit, a second person raising the second_registration finding and alert;
the contact sealed under the brand's key."""

import secrets
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from brands.services import current_key
from codes.models import Code
from owners import sealing
from owners.models import Consent, Registration
from owners.services import WORDING_VERSION
from scans.models import Alert, AlertKind
from tests.factories import BrandFactory

from .helpers import NOTICE, link_of, live_units, register, register_link, verify_page

pytestmark = pytest.mark.django_db


def test_the_verify_page_of_a_live_unit_offers_registration_after_the_verdict(brand):
    page = verify_page(live_units(brand)[0])
    link = register_link(page)
    assert link is not None
    assert page.index('class="verdict ok"') < page.index(link), "the verdict comes first"


def test_no_registration_is_offered_without_a_privacy_notice(brand):
    assert register_link(verify_page(live_units(brand, notice="")[0])) is None


def test_no_registration_is_offered_for_a_unit_not_yet_activated(brand):
    code = live_units(brand)[0]
    Code.objects.filter(pk=code.pk).update(status="not_activated")
    assert register_link(verify_page(code, status=404)) is None


def test_the_registration_page_words_each_purpose_and_links_the_privacy_notice(brand):
    page = Client().get(link_of(live_units(brand)[0])).content.decode()
    for words in ("Registration and warranty", "Recall and safety messages", "Marketing", "withdraw", NOTICE):
        assert words in page
    assert "checked" not in page, "no answer is given for the owner"


def test_a_registration_records_each_purpose_with_the_wording_version_and_time(brand):
    code = live_units(brand)[0]
    before = timezone.now()
    response = register(link_of(code), purchase_place="Guardian KLCC", purchased_on="2026-11-30")
    assert response.status_code == 200 and "Registered. Thank you." in response.content.decode()
    registration = Registration.objects.get(code=code)
    consents = {c.purpose: c for c in Consent.objects.filter(registration=registration)}
    assert {p: c.given for p, c in consents.items()} == {"warranty": True, "safety": True, "marketing": False}
    assert {c.wording_version for c in consents.values()} == {WORDING_VERSION}
    assert all(before <= c.at <= timezone.now() and c.language == "en" for c in consents.values())
    assert registration.purchase_place == "Guardian KLCC" and registration.purchased_on == date(2026, 11, 30)


def test_every_purpose_must_be_answered(brand):
    code = live_units(brand)[0]
    response = register(link_of(code), consent_marketing=None)
    assert response.status_code == 400 and not Registration.objects.exists()


def test_registering_needs_consent_to_registration_and_warranty(brand):
    code = live_units(brand)[0]
    response = register(link_of(code), consent_warranty="no")
    assert response.status_code == 400
    assert "Registering the product needs your consent" in response.content.decode()
    assert not Registration.objects.exists()


def test_an_owner_gives_an_address_or_a_number(brand):
    code = live_units(brand)[0]
    response = register(link_of(code), email="", phone="")
    assert response.status_code == 400 and not Registration.objects.exists()
    assert register(link_of(code), email="", phone="+60 12-345 6789").status_code == 200


def test_a_second_person_registering_a_unit_raises_the_finding_and_alert(
    brand, eager_tasks, django_capture_on_commit_callbacks
):
    code = live_units(brand)[0]
    assert register(link_of(code)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = register(link_of(code), name="Tan Wei", email="tan@example.my", ip="175.139.2.2")
    page = response.content.decode()
    assert "Already registered" in page and "registered by someone else" in page
    assert Registration.objects.filter(code=code).count() == 1
    assert Registration.objects.get(code=code).contact().email == "siti@example.my", "the first owner stays"
    alert = Alert.objects.get(brand=brand, kind=AlertKind.SECOND_REGISTRATION)
    assert alert.code_id == code.pk and alert.severity == "high"


def test_the_owner_registering_again_raises_nothing(brand, eager_tasks, django_capture_on_commit_callbacks):
    code = live_units(brand)[0]
    register(link_of(code))
    with django_capture_on_commit_callbacks(execute=True):
        response = register(link_of(code), email="SITI@example.my")
    assert "Already registered to you" in response.content.decode()
    assert not Alert.objects.filter(kind=AlertKind.SECOND_REGISTRATION).exists()


def test_the_registered_page_shows_when_the_warranty_ends(brand):
    code = live_units(brand, warranty_months=24)[0]
    response = register(link_of(code), purchased_on="2026-02-28")
    assert "Under warranty until 28 Feb 2028" in response.content.decode()


def test_contact_fields_are_unreadable_in_the_database_without_the_key(brand, other_brand):
    code = live_units(brand)[0]
    register(link_of(code), phone="+60 12-345 6789")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM owners_registration")
        row = b" ".join(bytes(v) if isinstance(v, memoryview) else str(v).encode() for v in cursor.fetchone())
    # whole pieces of the number: three digits alone turn up in timestamps and hex digests by chance
    for plain in (b"Siti", b"siti@example.my", b"12-345 6789", b"345 6789", b"123456789", b"example"):
        assert plain not in row
    registration = Registration.objects.get(code=code)
    sealed, associated = bytes(registration.sealed_contact), sealing.associated_data(brand.pk, code.pk)
    assert sealing.unseal(registration.key.secret(), sealed, associated).phone == "+60 12-345 6789"
    with pytest.raises(sealing.SealError):  # another brand's key
        sealing.unseal(current_key(other_brand).secret(), sealed, associated)
    with pytest.raises(sealing.SealError):  # moved onto another unit
        sealing.unseal(registration.key.secret(), sealed, sealing.associated_data(brand.pk, code.pk + 1))
    assert "Siti" not in repr(registration.contact()) + str(registration)


def test_a_forged_expired_or_other_units_link_is_404(brand):
    code = live_units(brand)[0]
    link = link_of(code)
    assert Client().get(link[:-3] + "xx/").status_code == 404
    Code.objects.filter(pk=code.pk).update(status="recalled")
    assert Client().get(link).status_code == 404
    # A brand that took its privacy notice down registers no one more.
    other = live_units(BrandFactory())[0]
    other_link = link_of(other)
    other.product.brand.__class__.objects.filter(pk=other.product.brand_id).update(privacy_notice_url="")
    assert Client().get(other_link).status_code == 404


def test_the_registration_page_is_rate_limited(brand, settings):
    settings.OWNER_REGISTRATION_RATE_LIMIT = "2/h"
    link = link_of(live_units(brand)[0])
    ip = f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(256)}"  # counts from earlier runs stay in Redis an hour
    statuses = [Client().get(link, REMOTE_ADDR=ip).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_the_registration_link_lasts_a_day(brand, monkeypatch):
    from scans import follow_up

    link = link_of(live_units(brand)[0])
    assert Client().get(link).status_code == 200
    monkeypatch.setattr(follow_up, "REGISTER_TOKEN_MAX_AGE", -1)
    assert Client().get(link).status_code == 404


def test_pages_in_bahasa_melayu(brand):
    code = live_units(brand)[0]
    page = verify_page(code, language="ms")
    assert "Daftar produk ini" in page
    form = Client().get(register_link(page), HTTP_ACCEPT_LANGUAGE="ms").content.decode()
    assert "Pendaftaran dan waranti" in form and "Mesej penarikan balik dan keselamatan" in form
    response = register(register_link(page), language="ms")
    assert "Berdaftar. Terima kasih." in response.content.decode()
    assert set(Consent.objects.values_list("language", flat=True)) == {"ms"}


def test_the_contact_never_reaches_the_logs(brand, owner_client, caplog):
    caplog.set_level("DEBUG")
    code = live_units(brand)[0]
    register(link_of(code), email="hidden.owner@example.my", phone="+60 19-876 5432")
    register(link_of(code), email=None, name="Bad Form", consent_warranty="maybe")
    owner_client.get(f"/owners/units/{code.pk}/")
    assert "hidden.owner" not in caplog.text and "876" not in caplog.text and "Siti" not in caplog.text


def test_warranty_length_is_edited_on_the_product(brand, owner_client):
    from codes import services

    product = live_units(brand, warranty_months=None)[0].product
    assert 'name="warranty_months"' in owner_client.get(f"/products/{product.pk}/edit/").content.decode()
    services.update_product(product=product, changes={"warranty_months": 12})
    product.refresh_from_db()
    assert product.warranty_months == 12


def test_a_purchase_date_in_the_future_is_refused(brand):
    code = live_units(brand)[0]
    tomorrow = (timezone.localdate() + timedelta(days=2)).isoformat()
    assert register(link_of(code), purchased_on=tomorrow).status_code == 400


def test_the_registration_link_keeps_the_verify_page_light(brand, capsys):
    """The link adds a few hundred bytes at most: the same unit's page with and without a privacy notice."""
    import gzip

    code = live_units(brand)[0]
    with_link = verify_page(code).encode()
    brand.privacy_notice_url = ""
    brand.save(update_fields=["privacy_notice_url"])
    from scans.products import product_cache

    product_cache.clear()
    without = verify_page(code).encode()
    assert register_link(with_link.decode()) and not register_link(without.decode())
    sizes = [(len(page), len(gzip.compress(page, 9))) for page in (without, with_link)]
    with capsys.disabled():
        print(f"\nverify page bytes (html, gzip -9): without link {sizes[0]}, with link {sizes[1]}")
    assert sizes[1][0] - sizes[0][0] < 400 and sizes[1][1] - sizes[0][1] < 200
