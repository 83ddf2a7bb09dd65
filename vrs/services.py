"""Trading partners' verification requests (DSCSA): a partner asks whether a product identifier is one the brand
assigned; the answer comes from the unit's live row, read in the same statement that logs the request as a scan
(source: trading partner), and the request goes to the brand's request log.

A partner's request never counts as a consumer's scan (its code's scan count and first scan are the consumer's),
but it feeds detection as any scan does: the partner's GLN joins the code's devices (several partners presenting
one serial is a copy's mark), and the rules judge it (a recalled or expired unit in a partner's hands is a late
scan). Its place is unknown: a partner's server says nothing about where the pack is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from brands.models import ApiKey, Brand
from codes import gs1, rows
from core.errors import ServiceError
from scans import detection, rules, scan_log
from scans import verify as verifying
from scans.context import place_fields
from scans.models import Scan, ScanOutcome, ScanSource
from scans.products import ProductInfo, product_cache

from . import answers
from .models import VrsRequest

PATH_WORDS = ("gtin", "lot", "ser")
CONTEXT_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


class RequestError(ServiceError):
    """A verification request that cannot be read (answered 400, without a body)."""


@dataclass(frozen=True)
class Question:
    """A product identifier a trading partner asks about, read and validated."""

    gtin: str
    lot: str
    serial: str
    expiry: date
    expiry_text: str  # YYMMDD as asked
    corr_uuid: str  # as sent: it is echoed back
    context: str = ""


def question_of(*, path: str, query) -> Question:
    """Read `gtin/{gtin14}/lot/{lot}/ser/{serial}` (as sent: lot and serial still percent-encoded) and the query's
    `exp` and `corrUUID` (and `context`); raises RequestError naming the first part that is wrong."""
    parts = path.strip("/").split("/")
    if len(parts) != 6 or tuple(parts[0::2]) != PATH_WORDS:
        raise RequestError("path", "Expected gtin/{gtin14}/lot/{lot}/ser/{serial}.")
    try:
        link = gs1.parse_digital_link(f"/01/{parts[1]}/10/{parts[3]}/21/{parts[5]}")
        expiry_text = query.get("exp", "")
        expiry = gs1.parse_yymmdd(expiry_text)
    except gs1.GS1Error as exc:
        raise RequestError(exc.field, exc.message) from None
    corr = query.get("corrUUID", "")
    try:
        uuid.UUID(corr)
    except ValueError:
        raise RequestError("corrUUID", "corrUUID must be a UUID.") from None
    context = query.get("context", "")
    if len(context) > 40 or not set(context) <= CONTEXT_CHARACTERS:
        raise RequestError("context", "context is a short word such as dscsaSaleableReturn.")
    assert link.lot is not None and link.serial is not None  # both in the path: parse_digital_link read them
    return Question(link.gtin, link.lot, link.serial, expiry, expiry_text, corr[:36], context)


def respond(*, key: ApiKey, question: Question, now: datetime | None = None) -> tuple[answers.Answer, VrsRequest]:
    """Answer a trading partner's request from the unit's live row, logging it as a scan and in the request log
    (one transaction). `key` is the partner's (scope vrs), its GLN already checked against the request's."""
    now = now or timezone.now()
    brand = key.brand
    scan = Scan(
        brand=brand,
        scanned_at=now,
        source=ScanSource.PARTNER,
        outcome=ScanOutcome.NOT_RECOGNISED,
        gtin=question.gtin,
        serial=question.serial,
        **place_fields(None),
    )
    with transaction.atomic():
        answer = _answer(brand, key.partner_gln, question, scan, now)
        if scan.pk is None:
            scan_log.log_scan(scan)
        if settings.DETECTION_ENABLED and scan.code_id is None and scan.outcome == ScanOutcome.NOT_RECOGNISED:
            detection.count_hot_spot(scan, now)
        logged = VrsRequest.objects.create(
            brand=brand,
            api_key=key,
            requester_gln=key.partner_gln,
            gtin=question.gtin,
            lot=question.lot,
            serial=question.serial,
            expiry=question.expiry_text,
            code_id=scan.code_id,
            corr_uuid=question.corr_uuid,
            context=question.context,
            verified=answer.verified,
            failure_reason=answer.failure_reason,
            additional_info=answer.additional_info,
            requested_at=now,
        )
    return answer, logged


def _answer(brand: Brand, gln: str, question: Question, scan: Scan, now: datetime) -> answers.Answer:
    info = product_cache.get(question.gtin)
    if info is None or info.brand.pk != brand.pk:  # another brand's GTIN is not this responder's to answer
        return answers.not_matched()
    scan.product_id = info.product_id
    if not info.verified_brand:
        scan.outcome = ScanOutcome.UNVERIFIED_BRAND
        return answers.by_policy()
    unit = verifying.issued_unit(info, question.serial)
    if unit is None:
        return answers.not_matched()
    info, serial, ordinal, batch = unit
    scan.serial = serial
    holder = batch.holder_of(ordinal)
    scan.distributor_id = holder.distributor_id if holder else None
    wrong = answers.mismatch(lot_matches=question.lot == batch.lot, expiry_matches=question.expiry == batch.expires_on)
    if wrong is not None:  # a real serial on a label with another lot or expiry: altered, logged as not recognised
        return wrong
    return _of_row(info, brand, gln, (serial, ordinal), batch, scan, now)


def _of_row(info: ProductInfo, brand: Brand, gln: str, unit, batch, scan: Scan, now: datetime) -> answers.Answer:
    """The answer on the unit's live row, read (and sighted, with detection on) in the statement logging the scan."""
    serial, ordinal = unit
    code = {"product_id": info.product_id, "ordinal": ordinal, "serial": serial, "brand_id": brand.pk}
    detect = settings.DETECTION_ENABLED
    statement = rows.sight(**code, seen=partner_sighting(gln)) if detect else rows.find(**code)
    row, generation = verifying.run_and_log(statement, scan, expired=verifying.is_expired(batch, now))
    if row is None:
        return answers.not_matched()
    status = rules.effective_status(row.status, batch.expires_on, timezone.localdate(now))
    scan.code_id = row.code_id
    if row.status == rules.NOT_ACTIVATED:
        scan.outcome = ScanOutcome.NOT_ACTIVATED
    else:
        scan.outcome = ScanOutcome.AUTHENTIC if status == "active" else ScanOutcome.INACTIVE
    if scan.pk is None:  # not PostgreSQL: the statement did not log it
        scan_log.log_scan(scan)
    if generation is not None and generation != info.generation:
        reloaded = product_cache.reload(info.lookup or scan.gtin)
        if reloaded is None or not reloaded.verified_brand:  # the brand's claim was withdrawn since it was cached
            scan_log.relabel_unverified(scan)
            scan.code_id = None
            return answers.by_policy()
    suspect = row.suspect_at is not None
    if detect and row.status == rules.NOT_ACTIVATED:
        detection.alert_after_commit(scan.pk, [rules.early_scan()])  # a label of a unit never released
    elif detect:
        suspect = detection.judge_and_alert(scan, row, status, None, now) is not None or suspect
    return answers.of_unit(status=status, suspect=suspect)


def partner_sighting(gln: str) -> rows.Seen:
    """What a partner's request adds to its code's detection state: the partner as a device of its own (network
    and device both its GLN, so partners never merge with each other or with phones), no region, no place."""
    return rows.Seen(region="", device=f"gln{gln}.gln{gln}", fix="")


def response_body(*, brand: Brand, corr_uuid: str | None, answer: answers.Answer | None, now: datetime) -> dict:
    """The JSON of a 200: the answer's `data` (none for checkConnectivity), who answered, when, and the requester's
    correlation id echoed."""
    body: dict[str, object] = {
        "verificationTimestamp": now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "responderGLN": brand.gln or None,
        "corrUUID": corr_uuid,
    }
    if answer is not None:
        body["data"] = answer.as_json()
    return body
