"""Registering a unit to its owner: once per unit; a second person registering it raises a detection finding."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from brands.services import current_key
from codes import packstates
from codes.models import Code
from core.errors import ServiceError
from scans import detection, rules

from . import sealing
from .models import Consent, Purpose, Registration
from .sealing import Contact

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
    try:
        with transaction.atomic():
            registration = Registration.objects.create(
                brand=brand,
                code=code,
                key=key,
                sealed_contact=sealing.seal(key.secret(), contact, sealing.associated_data(brand.pk, code.pk)),
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
    if first.contact().same_person(contact):
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
