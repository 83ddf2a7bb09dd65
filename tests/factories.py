from datetime import date

import factory

from api.models import IdempotentRequest
from brands import services as brand_services
from brands.apikeys import create_api_key
from brands.models import Brand, ClaimState, Membership, PrefixClaim, Role, User
from codes import services as code_services
from codes.gs1 import gtin_check_digit
from codes.models import Lot, Product
from distributors import services as distributor_services

EXAMPLE_PREFIX = "9506000"  # GS1's example GS1 Company Prefix (GTIN 09506000134352)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.django.Password("correct horse battery")


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")
    plan = "unlimited"  # quota tests choose their plan

    @factory.post_generation
    def key(brand, create, extracted, **kwargs):
        if create:
            brand_services.add_brand_key(brand=brand)

    @factory.post_generation
    def prefix(brand, create, extracted, **kwargs):
        """An approved claim to GS1's example prefix, which every ProductFactory GTIN lies under (rows made
        directly: several test brands share it, which the approval service would refuse).
        `BrandFactory(prefix="")` makes a brand with no claim at all, an impostor's state."""
        if create and extracted != "":
            PrefixClaim.objects.create(brand=brand, prefix=extracted or EXAMPLE_PREFIX, state=ClaimState.APPROVED)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    brand = factory.SubFactory(BrandFactory)
    role = Role.OWNER


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    gtin = factory.Sequence(lambda n: (body := f"0950600{n:06d}") + gtin_check_digit(body))
    key = factory.LazyAttribute(lambda o: brand_services.current_key(o.brand))


class LotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lot

    product = factory.SubFactory(ProductFactory)
    number = factory.Sequence(lambda n: f"L{n:04d}")
    expires_on = date(2030, 12, 31)


def ready_batch(product=None, *, quantity=20, with_pin=False, lot=None, activated=False):
    """A batch whose codes exist, made by the real services. Its codes are not yet activated, as every new batch's
    are (they verify as "not yet activated"); `activated=True` marks the whole batch applied, so they are live."""
    product = product or ProductFactory()
    lot = lot or LotFactory(product=product)
    batch = code_services.order_batch(product=product, lot=lot, quantity=quantity, with_pin=with_pin, enqueue=False)
    batch = code_services.generate_batch(batch.pk)
    if activated:
        activate(batch)
    return batch


def imported_batch(product, serials, *, lot_number="IMP1", fmt="csv", expires_on=None):
    """An import of these serials (a CSV file, one a line, or a JSON list), run here by the real services; returns
    the finished SerialImport (its batch: `.batch`)."""
    import json

    from django.core.files.uploadedfile import SimpleUploadedFile

    from codes import imports

    text = json.dumps(list(serials)) if fmt == "json" else "".join(f"{s}\n" for s in serials)
    serial_import = imports.start_import(
        brand=product.brand,
        product=product,
        lot_number=lot_number,
        expires_on=expires_on,
        upload=SimpleUploadedFile(f"serials.{fmt}", text.encode()),
        fmt=fmt,
        enqueue=False,
    )
    return imports.run_import(serial_import.pk)


def activate(batch, *, first=None, last=None):
    """Mark positions of a batch applied (the whole batch by default), by the real service, here and now."""
    from codes import activation

    activation.activate(brand=batch.product.brand, batch=batch, first_position=first, last_position=last, enqueue=False)
    batch.refresh_from_db()
    return batch


def ready_print_job(batch, fmt="csv", *, options=None, part_size=None, first=None, last=None):
    """A print job rendered in this process by the real service (files in default_storage)."""
    from codes import printing

    job = printing.create_print_job(
        batch=batch,
        fmt=fmt,
        options=options,
        first_position=first,
        last_position=last,
        part_size=part_size,
        enqueue=False,
    )
    return printing.render_job_here(job)


def product_link_of(product):
    from codes import links

    return links.add_link(product=product, link_type="gs1:pip", href="https://example.com/p", title="Product page")


def one_of_everything(brand) -> dict:
    """Ids of one object of every kind a dashboard URL takes, all of `brand` (see tests/test_tenancy.py)."""
    product = ProductFactory(brand=brand)
    batch = ready_batch(product, quantity=5)
    report = counterfeit_report_with_photo(brand)
    distributor = DistributorFactory(brand=brand, code="HOLDER")
    webhook = webhook_of(brand)  # first, so the events below queue deliveries for it (sent after commit: never)
    subscription = email_subscription_of(brand)
    api_key, _raw = create_api_key(brand=brand, name="ERP", scopes="read")
    objects = {
        "membership_id": MembershipFactory(brand=brand, role=Role.VIEWER).pk,
        "product_id": product.pk,
        "batch_id": batch.pk,
        "lot_id": batch.lot_id,
        "link_id": product_link_of(product).pk,
        "code_id": batch.codes.order_by("ordinal").values_list("pk", flat=True).first(),
        "report_id": report.pk,
        "print_job_id": ready_print_job(batch).pk,
        "part": 1,
        "distributor_id": distributor.pk,
        # The whole batch is this distributor's, packed in one carton: its portal reaches every object here.
        # A 12-digit prefix (the GTIN's own digits) so that two brands can each have one of everything.
        "assignment_id": distributor_services.assign_range(
            batch=batch, distributor=distributor, first_position=1, last_position=5
        ).pk,
        "carton_id": distributor_services.pack_cartons(
            batch=batch, first_position=1, last_position=5, size=5, company_prefix=product.gtin[1:13]
        )[0].pk,
        "claim_id": prefix_claim_with_evidence(brand).pk,
        "alert_id": alert_of(batch).pk,
        "recall_id": applied_recall(batch, first=1, last=2).pk,
        # An import of another product with a refused line, so its report has a row too.
        "import_id": imported_batch(ProductFactory(brand=brand), ["IMPORTED-0001", "IMPORTED-0001"]).pk,
        "webhook_id": webhook.pk,
        "subscription_id": subscription.pk,
        # Brand-owned rows no URL takes an id of, so that offboarding tests see one of every kind.
        "webhook_attempt_id": webhook_attempt_of(webhook).pk,
        "detection_settings_id": detection_settings_of(brand).pk,
        "email_digest_id": subscription.digests.create(day=date(2026, 1, 1), alerts=1).pk,
        "api_key_id": api_key.pk,
        "vrs_request_id": vrs_request_of(brand).pk,
        "registration_id": registration_of(batch).pk,
        "idempotent_request_id": IdempotentRequest.objects.create(
            brand=brand, key="order-1", fingerprint="0" * 64, status=202, body={"id": batch.pk}
        ).pk,
    }
    objects["recall_notice_id"] = recall_notice_of(objects["recall_id"])
    return objects


def recall_notice_of(recall_id: int) -> int:
    """The recall's e-mail to the owner of its registered unit (queued by the real service; never sent here)."""
    from owners import recall_messages
    from owners.models import RecallNotice

    recall_messages.queue_recall_notices(recall_id)
    return RecallNotice.objects.get(change_id=recall_id).pk


def vrs_request_of(brand, **fields):
    """A logged verification request of a trading partner of the brand (made here: what vrs.services logs)."""
    from vrs.models import VrsRequest

    key, _raw = create_api_key(brand=brand, name="Wholesaler", scopes="vrs", partner_gln="0614141000012")
    values = {
        "brand": brand,
        "api_key": key,
        "requester_gln": key.partner_gln,
        "gtin": "09506000134352",
        "lot": "L2026A",
        "serial": "7KQ3M9X2VD4H",
        "expiry": "301231",
        "corr_uuid": "6f1d7a5e-2f0c-4a4b-9d3e-0d6f3b2a9c11",
        "context": "dscsaSaleableReturn",
        "verified": False,
        "failure_reason": "No_match_GTIN_Serial",
        **fields,
    }
    return VrsRequest.objects.create(**values)


def registration_of(batch):
    """The first unit of a batch registered to an owner (with a consent per purpose), by the real service."""
    from owners.sealing import Contact
    from owners.services import register_unit

    code = batch.codes.order_by("ordinal").first()
    contact = Contact(name="Owner", email="owner@example.my")
    consents = {"warranty": True, "safety": True, "marketing": False}
    return register_unit(code=code, scan_id=None, contact=contact, consents=consents).registration


def prefix_claim_with_evidence(brand, prefix="9521234"):
    from django.core.files.base import ContentFile

    claim = PrefixClaim(brand=brand, prefix=prefix)
    claim.evidence.save("licence.pdf", ContentFile(b"%PDF-1.4 GS1 licence"), save=False)
    claim.save()
    return claim


def alert_of(batch, kind="likely_copy"):
    """An open alert on the first code of a batch, with one scan as evidence, made by the real service."""
    from codes.models import Code
    from scans import alerts
    from scans.models import Alert, Scan

    code = Code.objects.filter(batch=batch).order_by("ordinal").first()
    scan = Scan.objects.create(
        brand=batch.product.brand,
        product=batch.product,
        code=code,
        gtin=batch.product.gtin or "",  # a product ref is never logged as a GTIN
        serial=code.serial,
        outcome="authentic",
        place="Kuala Lumpur, Kuala Lumpur, MY",
        region_code="MY-14",
        country_code="MY",
    )
    [alert_id] = alerts.record_findings(scan_id=scan.pk, findings=[{"kind": kind, "severity": "high", "params": {}}])
    return Alert.objects.get(pk=alert_id)


def applied_recall(batch, *, first=None, last=None, reason="Contamination"):
    from codes import recalls

    change = recalls.recall(
        brand=batch.product.brand, batch=batch, first_position=first, last_position=last, reason=reason, enqueue=False
    )
    return recalls.apply_change(change.pk)


def webhook_of(brand, url="https://hooks.example.com/serialize", **fields):
    from notifications.models import Webhook

    return Webhook.objects.create(brand=brand, url=url, **fields)


def webhook_attempt_of(webhook):
    """A logged attempt of the webhook's latest delivery (made here: no request leaves the test)."""
    from notifications.models import WebhookAttempt

    delivery = webhook.deliveries.order_by("-pk").first()
    return WebhookAttempt.objects.create(delivery=delivery, status_code=200, milliseconds=12, response_excerpt="ok")


def detection_settings_of(brand, **fields):
    from scans.models import DetectionSettings

    return DetectionSettings.objects.update_or_create(brand=brand, defaults=fields)[0]


def email_subscription_of(brand, email="alerts@example.com", *, confirmed=True, **fields):
    """A subscription whose address's owner confirmed it (only those get mail), unless `confirmed=False`."""
    from django.utils import timezone

    from notifications.models import EmailSubscription

    return EmailSubscription.objects.create(
        brand=brand, email=email, confirmed_at=timezone.now() if confirmed else None, **fields
    )


def png_bytes() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def counterfeit_report_with_photo(brand):
    from django.core.files.base import ContentFile

    from scans.models import CounterfeitReport

    report = CounterfeitReport(brand=brand, where_bought="Night market")
    report.photo.save("label.png", ContentFile(png_bytes()), save=False)
    report.save()
    return report


def logged_in_client(membership):
    """A browser session of this member, with the membership's brand chosen."""
    from django.test import Client

    client = Client()
    client.force_login(membership.user)
    session = client.session
    session["brand_id"] = membership.brand_id
    session.save()
    return client


def verified_client(user):
    """A browser session of `user` that has confirmed a code from its authenticator app (django-otp)."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


class DistributorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "distributors.Distributor"

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Distributor {n}")
    code = factory.Sequence(lambda n: f"D{n}")
    territory = factory.LazyFunction(lambda: ["MY-10", "MY-14"])


def distributor_member(distributor, **kwargs):
    """A login of a distributor's people: a membership restricted to that distributor."""
    return MembershipFactory(brand=distributor.brand, role=Role.DISTRIBUTOR, distributor=distributor, **kwargs)


def sign_up(client, email: str, brand_name: str, password: str = "a-long pass 123"):
    """The whole sign-up as a person does it: the form, the e-mailed link, the password."""
    import re

    from django.core import mail

    client.post("/signup/", {"email": email, "brand_name": brand_name})
    link = re.search(r"https?://[^/\s]+(/signup/finish/\S+/)", mail.outbox[-1].body)
    assert link, mail.outbox[-1].body
    return client.post(link.group(1), {"password1": password, "password2": password})


# --- Brands without a GS1 prefix: products under Serialize product refs, verified on a company registration ---


def ref_product(brand, name="Herbal Balm 30 g", **fields):
    """A product without a GTIN, made by the real service: it gets the brand's next product ref."""
    fields = {"serial_alphabet": "alnum", "serial_length": 12, **fields}
    return code_services.create_product(brand=brand, name=name, **fields)


def registration_claim(brand, number="202401012345", country="MY", *, approved=False):
    """The brand's company registration claim (with a certificate), pending unless `approved`."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    certificate = SimpleUploadedFile("certificate.pdf", b"%PDF-1.4 SSM certificate", content_type="application/pdf")
    claim = brand_services.claim_registration(
        brand=brand, registration_number=number, country=country, evidence=certificate
    )
    return brand_services.approve_claim(claim=claim) if approved else claim


def ref_code_path(code, *, with_lot=True, with_expiry=True) -> str:
    """The path of the URL a printed QR of a product ref's code holds (what the phone requests)."""
    from urllib.parse import urlsplit

    from codes import gs1

    lot = code.batch.lot
    url = gs1.ref_link_url(
        "https://verify.example.com",
        ref=code.product.ref,
        serial=code.serial,
        lot=lot.number if with_lot else None,
        expiry=lot.expires_on if with_expiry else None,
    )
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
