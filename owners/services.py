"""Registering a unit to its owner: once per unit; a second person registering it raises a detection finding."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from brands import offboarding
from brands.models import BrandKey
from brands.services import current_key
from codes import packstates
from codes.models import Code
from core.errors import ServiceError
from scans import detection, rules

from . import sealing
from .models import Consent, ErasedBy, Purpose, Registration
from .sealing import Contact
from .warranty import add_months

# The version of the consent words (owners.wording): a change of wording is a new version, so each consent
# records what the owner actually read.
WORDING_VERSION = "2026-12-05"


class RegistrationError(ServiceError):
    """A registration that cannot be taken as asked."""


@dataclass(frozen=True)
class Outcome:
    """What a registration attempt came to. `second` is a second person (a finding was raised); `again` the
    owner registering their own unit once more (nothing changes)."""

    registration: Registration
    second: bool = False
    again: bool = False

    @property
    def accepted(self) -> bool:
        return not (self.second or self.again)


def registrable_unit(code_id: int) -> Code | None:
    """The unit a registration link points at, while it may be registered: active, of a brand with a privacy
    notice (the words every consent refers to)."""
    code = Code.objects.select_related("product__brand").filter(pk=code_id).first()
    if code is None or code.status != packstates.ACTIVE or not code.product.brand.privacy_notice_url:
        return None
    return code


def register_unit(
    *,
    code: Code,
    scan_id: int | None,
    contact: Contact,
    consents: Mapping[str, bool],
    purchase_place: str = "",
    purchased_on: date | None = None,
    language: str = "",
    now: datetime | None = None,
) -> Outcome:
    """Register `code` to the person of `contact`, with their answer for every purpose (`consents`: purpose ->
    given). Registration and warranty must be agreed to; safety messages and marketing are each the owner's
    choice. A unit registered before is not taken again: the same person is told so, anyone else raises a
    `second_registration` finding on the scan of their page (alerts, through the detection worker)."""
    now = now or timezone.now()
    if not (contact.email or contact.phone):
        raise RegistrationError("email", _("Give an e-mail address or a phone number."))
    missing = [purpose for purpose in Purpose.values if purpose not in consents]
    if missing:
        raise RegistrationError(f"consent_{missing[0]}", _("Answer for each purpose."))
    if not consents[Purpose.WARRANTY]:
        raise RegistrationError("consent_warranty", _("Registering the product needs your consent to this purpose."))
    if purchased_on and purchased_on > timezone.localdate(now):
        raise RegistrationError("purchased_on", _("The date of purchase cannot be in the future."))
    brand = code.product.brand
    key = current_key(brand)
    secret = key.secret()
    try:
        with transaction.atomic():
            registration = Registration.objects.create(
                brand=brand,
                code=code,
                key=key,
                sealed_contact=sealing.seal(secret, contact, sealing.associated_data(brand.pk, code.pk)),
                contact_lookup=sealing.email_lookup(sealing.lookup_key(secret), contact.email),
                purchase_place=purchase_place,
                purchased_on=purchased_on,
                language=language,
                scan_id=scan_id,
                registered_at=now,
            )
            Consent.objects.bulk_create(
                Consent(
                    registration=registration,
                    purpose=purpose,
                    given=bool(consents[purpose]),
                    wording_version=WORDING_VERSION,
                    language=language,
                    at=now,
                )
                for purpose in Purpose.values
            )
    except IntegrityError:  # registered already (also by a request racing this one: the unique unit wins once)
        return _registered_before(code=code, scan_id=scan_id, contact=contact)
    return Outcome(registration)


def _registered_before(*, code: Code, scan_id: int | None, contact: Contact) -> Outcome:
    first = Registration.objects.select_related("key").get(code=code)
    # An erased registration (a tombstone) names nobody: whoever registers the unit again is a second person.
    if not first.erased and first.contact().same_person(contact):
        return Outcome(first, again=True)
    if scan_id is not None:
        detection.alert_after_commit(scan_id, [rules.second_registration(first.registered_at)])
    return Outcome(first, second=True)


def registration_of(code: Code) -> Registration | None:
    """A unit's registration with its consents, for the support desk (`owners.view`)."""
    return (
        Registration.objects.filter(code=code)
        .select_related("key", "code__product")
        .prefetch_related("consents")
        .first()
    )


# --- The owner's rights: see, export, withdraw, erase (through a link mailed to their address) ---------------

LINK_SALT = "owners.mine"
LINK_MAX_AGE = 60 * 60  # seconds a "My registration" link stays valid
LINK_TEMPLATE = "owners/email/my_registration"


def registrations_of_email(email: str) -> list[int]:
    """Ids of the live registrations whose e-mail is `email`, found by blind index under each brand key that
    sealed a registration (no contact is opened)."""
    # One index probe per brand key (the key_id index), never a pass over the registrations.
    keys = BrandKey.objects.filter(Exists(Registration.objects.filter(key_id=OuterRef("pk"))))
    wanted = Q(pk__in=[])
    for key in keys:
        lookup = sealing.email_lookup(sealing.lookup_key(key.secret()), email)
        if lookup:
            wanted |= Q(key_id=key.pk, contact_lookup=lookup)
    return list(Registration.objects.filter(wanted, erased_at__isnull=True).values_list("pk", flat=True))


def request_link(*, email: str, language: str) -> None:
    """Mail a "My registration" link to `email` when it registered anything; otherwise send nothing. The caller
    answers the same either way, so the page tells nobody whether an address is registered."""
    from core.queueing import enqueue_on_commit

    from .tasks import send_owner_link_task

    ids = registrations_of_email(email)
    if ids:
        enqueue_on_commit(send_owner_link_task, ids, language)


def link_token(registrations: Iterable[Registration]) -> str:
    """A signed capability for these registrations as long as each keeps the blind index it has now (erased,
    or re-sealed to another address, it drops out): the link is bound to the address, which it does not carry."""
    pairs = [[registration.pk, registration.contact_lookup] for registration in registrations]
    return signing.dumps(pairs, salt=LINK_SALT, compress=True)


def registrations_of_token(token: str, *, max_age: int = LINK_MAX_AGE) -> list[Registration] | None:
    """The live registrations a link opens, or None when it is forged, altered or expired."""
    try:
        pairs = signing.loads(token, salt=LINK_SALT, max_age=max_age)
        wanted = {int(pk): str(lookup) for pk, lookup in pairs}
    except (signing.BadSignature, ValueError, TypeError):
        return None
    rows = (
        Registration.objects.filter(pk__in=wanted, erased_at__isnull=True)
        .select_related("key", "brand", "code__product")
        .prefetch_related("consents")
        .order_by("registered_at", "pk")
    )
    return [row for row in rows if row.contact_lookup and row.contact_lookup == wanted[row.pk]]


def send_owner_link(*, registration_ids: list[int], language: str) -> int:
    """The worker's half of `request_link`: the address is read from the sealed contact here, so no broker
    message carries it."""
    from notifications.services import absolute, send_templated_email

    rows = list(
        Registration.objects.filter(pk__in=registration_ids, erased_at__isnull=True)
        .exclude(contact_lookup="")
        .select_related("key", "brand", "code__product")
    )
    if not rows:
        return 0
    email = rows[0].contact().email
    rows = [row for row in rows if sealing.normalise_email(row.contact().email) == sealing.normalise_email(email)]
    context = {
        "url": absolute(reverse("my_registration", args=[link_token(rows)])),
        "brands": sorted({row.brand.name for row in rows}),
        "minutes": LINK_MAX_AGE // 60,
    }
    return send_templated_email(to=email, language=language, template=LINK_TEMPLATE, context=context)


def withdraw_consent(*, registration: Registration, purpose: str, language: str = "", now=None) -> Consent | None:
    """Record the owner's withdrawal of one purpose as a new answer (the earlier answers stay as its history).
    Registration and warranty is not withdrawn alone: without it the registration is deleted (`erase`). None
    when the purpose was not agreed to."""
    if purpose not in (Purpose.SAFETY, Purpose.MARKETING):
        raise RegistrationError("purpose", _("To withdraw this consent, delete the registration."))
    current = {consent.purpose: consent for consent in registration.current_consents()}
    if purpose not in current or not current[purpose].given:
        return None
    return Consent.objects.create(
        registration=registration,
        purpose=purpose,
        given=False,
        wording_version=WORDING_VERSION,
        language=language,
        at=now or timezone.now(),
    )


def erase_registration(*, registration: Registration, by: str, now: datetime | None = None) -> bool:
    """Erase the person of a registration: contact, blind index, purchase details and consents. The row stays
    as a tombstone (registered, erased when and by whom) and the unit's scans are untouched. An export of the
    brand made before is made again without them. False when it was erased already."""
    now = now or timezone.now()
    with transaction.atomic():
        erased = Registration.objects.filter(pk=registration.pk, erased_at__isnull=True).update(
            sealed_contact=b"",
            contact_lookup="",
            purchase_place="",
            purchased_on=None,
            language="",
            erased_at=now,
            erased_by=by,
        )
        if not erased:
            return False
        Consent.objects.filter(registration_id=registration.pk).delete()
        offboarding.forget_export(registration.brand_id)
    return True


def export_registration(registration: Registration) -> dict:
    """Everything kept about a registration, its contact decrypted: for its owner, or the brand on request."""
    return {
        "brand": registration.brand.name,
        "product": registration.code.product.name,
        "gtin": registration.code.product.gtin,
        "serial": registration.code.serial,
        "registered_at": registration.registered_at.isoformat(),
        "contact": vars(registration.contact()),
        "purchase_place": registration.purchase_place,
        "purchased_on": registration.purchased_on.isoformat() if registration.purchased_on else None,
        "warranty_ends_on": _iso(registration.warranty_ends_on()),
        "removed_after": _iso(keep_until(registration)),
        "language": registration.language,
        "consents": [
            {
                "purpose": consent.purpose,
                "given": consent.given,
                "wording_version": consent.wording_version,
                "language": consent.language,
                "at": consent.at.isoformat(),
            }
            for consent in sorted(registration.consents.all(), key=lambda c: (c.at, c.pk))
        ],
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


# --- Retention: what the consent words promise (owners.wording) -------------------------------------------

NO_WARRANTY_KEEP_MONTHS = 24  # "two years when the product has no warranty", from registration
AFTER_WARRANTY_KEEP_MONTHS = 12  # "until the warranty ends and one year after"


def keep_until(registration: Registration) -> date:
    """The last day a registration is kept: a year after its warranty ends, or two years after registration for
    a product without warranty."""
    ends = registration.warranty_ends_on()
    if ends is not None:
        return add_months(ends, AFTER_WARRANTY_KEEP_MONTHS)
    return add_months(timezone.localdate(registration.registered_at), NO_WARRANTY_KEEP_MONTHS)


def erase_expired_registrations(*, now: datetime | None = None) -> int:
    """Erase every live registration past its last day (`keep_until`); a repeat finds nothing."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    live = Registration.objects.filter(erased_at__isnull=True).select_related("code__product").order_by("pk")
    count = 0
    for registration in live.iterator(chunk_size=500):
        if keep_until(registration) < today:
            count += erase_registration(registration=registration, by=ErasedBy.RETENTION, now=now)
    return count
