"""Verify use cases: the public answer to a scan, logged as evidence.

The hot path per scan: parse the Digital Link (pure), look the GTIN up in a short per-process cache
(scans.products), decrypt the serial (a never-issued serial stops here, before any read of the codes table), one
UPDATE … RETURNING on the code row (codes.rows) and one INSERT into the scan log (scans.scan_log), in one
statement. Detection rides on that UPDATE: it keeps the code's small sets of regions and devices and its last
located fix, and the pure rules judge what it returns (scans.detection); alerts are recorded by a worker after
commit, never in the request's time.
"""

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from codes import gs1, rows
from codes.models import StatusChange
from codes.rows import CodeRow
from codes.serials import pin_matches
from distributors.territory import is_outside

from . import detection, rules, scan_log
from .context import ScanContext, Sighting, place_fields
from .models import Scan, ScanOutcome, ScanSource
from .products import BatchInfo, Holder, ProductInfo, product_cache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Counted:
    """What the count (or read) of a genuine code returned, for detection once the scan is logged: the code row,
    and what this scan added to the code's detection state (None when it added nothing)."""

    row: CodeRow
    sighting: Sighting | None = None


def verify(*, path: str, query: str, context: ScanContext) -> tuple[rules.Verdict, Scan]:
    """Answer a scan of a Digital Link and log it; counts the scan on the code row."""
    return surviving_a_lost_connection(_answer, path=path, query=query, context=context, pin=None)


def check_pin(*, path: str, query: str, pin: str, context: ScanContext) -> tuple[rules.Verdict, Scan]:
    """Check a scratch PIN: the first correct use is remembered, so a copied label's PIN shows as used."""
    return surviving_a_lost_connection(_answer, path=path, query=query, context=context, pin=pin)


def surviving_a_lost_connection(answer, **kwargs):
    """Answer once more, on a new connection, when the server dropped this one mid-answer (a PostgreSQL restart
    or failover, an idle-connection reaper). Verify runs in autocommit, so the lost try may have committed its
    count and log before the drop, or even before its reply was lost: the second try is the same scan (the same
    time, to the microsecond) and first looks for what the first one wrote (`scan_log.logged_by_first_try`), so a
    scan is counted once however its connection ended. Anything else (a locked SQLite file, a bad statement) is
    not answered again."""
    now = timezone.now()
    try:
        return answer(now=now, again=False, **kwargs)
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block or (connection.connection is not None and connection.is_usable()):
            raise
        log.warning("database connection lost mid-scan: answering again on a new one")
        connection.close()
    return answer(now=now, again=True, **kwargs)


def _answer(*, path, query, context, pin, now: datetime, again: bool) -> tuple[rules.Verdict, Scan]:
    scan = Scan(
        scanned_at=now,
        source=ScanSource.PIN if pin is not None else context.source,
        outcome=ScanOutcome.NOT_RECOGNISED,
        ip_hash=context.ip_hash,
        user_agent_family=context.user_agent_family[:60],
        **place_fields(context.place),
    )
    verdict, counted = rules.not_recognised(), None
    try:
        link = gs1.parse_verify_link(path, query)
    except gs1.GS1Error:
        link = None
    if link is not None:
        # A product ref is never logged as a GTIN: its scans name their product (when known) and serial.
        scan.gtin = link.gtin if isinstance(link, gs1.DigitalLink) else ""
        scan.serial = (link.serial or "")[:40]
        verdict, counted = _count_and_log(link, scan, now, pin, context, again)
    if scan.pk is None and not (again and scan_log.logged_by_first_try(scan)):  # not yet logged with the count
        scan_log.log_scan(scan)
    if settings.DETECTION_ENABLED and pin is None and context.counts:
        _detect(verdict, scan, counted, context, now)
    return verdict, scan


def _detect(verdict: rules.Verdict, scan: Scan, counted: Counted | None, context: ScanContext, now: datetime) -> None:
    if counted is not None and scan.source == ScanSource.PAGE:
        detection.warn_if_suspect(verdict, counted.row)  # counted and judged when its browser confirms the view
    elif counted is not None:
        fix = (counted.sighting or Sighting.of(context, now)).fix  # the rules judge the same fix as the count
        detection.judge_counted(verdict, scan, counted.row, fix, now)
    elif verdict.status == rules.NOT_ACTIVATED:  # a genuine label before its unit went live: a leak
        detection.alert_after_commit(scan.pk, [rules.early_scan()])
    elif scan.brand_id is not None:
        detection.count_hot_spot(scan, now)


def _count_and_log(
    link: gs1.DigitalLink | gs1.RefLink,
    scan: Scan,
    now: datetime,
    pin: str | None,
    context: ScanContext,
    again: bool = False,
) -> tuple[rules.Verdict, Counted | None]:
    """The verdict on a scanned code, counting the scan on the code and logging it (in one statement on
    PostgreSQL; else the caller logs it), and claiming a correct PIN's first use. Counted: a genuine code's row."""
    info, refused = _product_logging_unverified(link, scan, again)
    if info is None:
        return refused or rules.not_recognised(), None
    unit = _issued_unit(info, link)
    if unit is None:
        return rules.not_recognised(), None
    info, serial, ordinal, batch = unit
    _note_holder(scan, batch.holder_of(ordinal))
    code = {"product_id": info.product_id, "ordinal": ordinal, "serial": serial, "brand_id": info.brand.pk}
    counts = pin is None and scan.source not in (ScanSource.PREVIEW, ScanSource.PAGE)
    sighting = Sighting.of(context, now) if counts and settings.DETECTION_ENABLED else None
    if pin is None and again and scan_log.logged_by_first_try(scan):  # counted by the lost try: as it left the code
        row, generation = rows.run(rows.find(**code, detect=sighting is not None))
    elif pin is None:  # page views and previews only read the code, but log the scan in the same statement
        statement = (
            count_statement(code, scan, sighting) if counts else rows.find(**code, detect=settings.DETECTION_ENABLED)
        )
        row, generation = run_and_log(statement, scan, expired=is_expired(batch, now))
    else:
        row, generation = rows.run(rows.find(**code))
    if row is None:
        return rules.not_recognised(), None
    if generation is not None and generation != info.generation:
        # Another worker approved, rejected or rebranded since this one cached the product: answer with what
        # is true now (a few queries, once per change and worker).
        info = product_cache.reload(link.key) or info
        scan.brand = info.brand
        if not info.verified_brand:
            scan_log.relabel_unverified(scan)
            return rules.unverified_brand(), None
    verdict, row = _verdict_of(info, batch, row, scan, counts=counts, now=now)
    if verdict.authentic and pin is not None:
        _claim_pin(verdict, scan, info, batch, row, serial, pin, now)
    return verdict, Counted(row, sighting) if verdict.authentic else None


def _product_logging_unverified(
    link: gs1.DigitalLink | gs1.RefLink, scan: Scan, again: bool
) -> tuple[ProductInfo | None, rules.Verdict | None]:
    """The scanned product, when its brand is verified; else (None, the verdict), the scan logged as answered
    (only while the brand's generation is the one cached: one approved since is loaded again instead)."""
    info = product_cache.get(link.key)
    if info is None or link.serial is None:
        return None, None
    scan.brand, scan.product_id = info.brand, info.product_id
    if info.verified_brand:
        return info, None
    scan.outcome = ScanOutcome.UNVERIFIED_BRAND
    logged = (again and scan_log.logged_by_first_try(scan)) or scan_log.log_scan(
        scan, generation=(info.brand.pk, info.generation)
    )
    if logged:
        return None, rules.unverified_brand()
    info = product_cache.reload(link.key)  # approved since this worker cached it: nothing was logged
    if info is None or not info.verified_brand:
        scan.outcome = ScanOutcome.UNVERIFIED_BRAND if info else ScanOutcome.NOT_RECOGNISED
        return None, rules.unverified_brand() if info else None
    scan.brand, scan.outcome = info.brand, ScanOutcome.NOT_RECOGNISED
    return info, None


def _issued_unit(
    info: ProductInfo, link: gs1.DigitalLink | gs1.RefLink
) -> tuple[ProductInfo, str, int, BatchInfo] | None:
    """(the product, as reloaded if need be, the serial in its canonical spelling, its ordinal and batch) of a
    serial the brand issued, with the lot and expiry the link names; None for any other (no database read)."""
    unit = issued_unit(info, link.serial or "")
    if unit is None:
        return None
    # A real serial with a lot or expiry that is not its own is an altered label.
    batch = unit[3]
    if (link.lot is not None and link.lot != batch.lot) or (
        link.expiry is not None and link.expiry != batch.expires_on
    ):
        return None
    return unit


def issued_unit(info: ProductInfo, serial_text: str) -> tuple[ProductInfo, str, int, BatchInfo] | None:
    """(the product, as reloaded if need be, the serial in its canonical spelling, its ordinal and batch) of a
    serial the brand issued for the product, whatever lot and expiry a label gives it; None for any other (no
    database read unless the product imported serials)."""
    serial = info.codec.format.normalise(serial_text)
    ordinal = info.codec.ordinal(serial)
    batch = None if ordinal is None else info.batch_of(ordinal)
    if batch is None:  # or in a batch ordered (or imported) since the product was cached
        info = product_cache.with_new_batches(info)
        batch = None if ordinal is None else info.batch_of(ordinal)
    if batch is None or batch.imported:
        # Not a serial the cipher issued: an imported one (stored as uploaded, found by its index) or none at all.
        # A product without imports rejects it here, without reading the codes table.
        found = _imported_unit(info, serial_text)
        if found is None:
            return None
        serial, ordinal, batch = found
    return info, serial, ordinal, batch


def is_issued(info: ProductInfo, link: gs1.DigitalLink) -> bool:
    """Whether the link names a unit the brand issued, with its own lot and expiry (the resolver's question: it
    logs nothing; a generated serial is answered without a database read)."""
    return link.serial is not None and _issued_unit(info, link) is not None


def _imported_unit(info: ProductInfo, serial: str) -> tuple[str, int, BatchInfo] | None:
    """(serial, ordinal, batch) of an imported serial, exactly as it was registered (GS1 serials are case-sensitive:
    no normalising); None for a serial the product never imported."""
    if not info.has_imports or not serial:
        return None
    ordinal = rows.ordinal_of(product_id=info.product_id, serial=serial)
    batch = None if ordinal is None else info.batch_of(ordinal)
    if batch is None or not batch.imported:
        return None
    return serial, ordinal, batch


def is_expired(batch: BatchInfo, now: datetime) -> bool:
    return rules.effective_status("active", batch.expires_on, timezone.localdate(now)) != "active"


def count_statement(code: dict, scan: Scan, sighting: Sighting | None) -> rows.Statement:
    """codes' count of this scan on the code (`code`: product_id, ordinal, serial, brand_id)."""
    seen = sighting.seen() if sighting else None
    return rows.count(**code, at=scan.scanned_at, place=scan.place, seen=seen)


def run_and_log(statement: rows.Statement, scan: Scan, *, expired: bool) -> tuple[CodeRow | None, int | None]:
    """Run codes' statement and, on PostgreSQL, log the scan in the same statement (one round trip and one commit
    for the whole hot path; elsewhere the caller logs it). Returns the code row and the brand's generation."""
    if connection.vendor != "postgresql":
        return rows.run(statement)
    return scan_log.run_and_log(statement, scan, expired=expired)


def _verdict_of(
    info: ProductInfo, batch: BatchInfo, row: CodeRow, scan: Scan, *, counts: bool, now: datetime
) -> tuple[rules.Verdict, CodeRow]:
    """The verdict on a genuine code's row (and the row as the page will show it); sets the scan's code and
    outcome."""
    facts = rules.ProductFacts(
        name=info.name,
        gtin=info.gtin,
        lot=batch.lot,
        expiry=batch.expires_on.isoformat() if batch.expires_on else None,
        brand=info.brand.name,
        ref=info.ref,
        registrations=info.registrations,
        needs_farmatag=info.needs_farmatag,
    )
    if row.status == rules.NOT_ACTIVATED:  # logged (evidence of a leak), never counted, and no PIN is checked
        scan.code_id, scan.outcome = row.code_id, ScanOutcome.NOT_ACTIVATED
        return rules.not_activated(facts), row
    predicted = scan.source == ScanSource.PAGE
    if predicted:  # what the page says once its script confirms the view (confirm_page_view counts it)
        row = dataclasses.replace(
            row,
            scan_count=row.scan_count + 1,
            first_scanned_at=row.first_scanned_at or scan.scanned_at,
            first_scanned_in=row.first_scanned_in or scan.place,
        )
    scan.code_id = row.code_id
    status = rules.effective_status(row.status, batch.expires_on, timezone.localdate(now))
    verdict = rules.Verdict(
        authentic=True,
        status=status,
        first_scan=row.scan_count == 1 and (counts or predicted),
        scan_count=row.scan_count,
        first_scanned_at=row.first_scanned_at,
        first_scanned_in=row.first_scanned_in or None,
        product=facts,
        warnings=rules.state_warnings(status),
        pin_required=batch.with_pin,
    )
    if status == rules.RECALLED and row.status_change_id:
        _add_recall_message(verdict, row.status_change_id)
    scan.outcome = ScanOutcome.AUTHENTIC if status == "active" else ScanOutcome.INACTIVE
    return verdict, row


def _note_holder(scan: Scan, holder: Holder | None) -> None:
    """Grey-market evidence for the brand: who held the unit, and whether it was scanned outside their
    territory. The consumer's verdict never depends on it, nor names the distributor."""
    if holder is not None:
        scan.distributor_id = holder.distributor_id
        scan.out_of_territory = is_outside(holder.territory, scan.country_code, scan.region_code)


def _claim_pin(
    verdict: rules.Verdict,
    scan: Scan,
    info: ProductInfo,
    batch: BatchInfo,
    row: CodeRow,
    serial: str,
    pin: str,
    now: datetime,
) -> None:
    """Check a PIN and, when it is right, claim its first use on the code: the verdict and the scan's outcome
    say whether this was the first use."""
    verdict.pin = check = _pin_check(info, batch, row, serial, pin, now)
    scan.outcome = (
        (ScanOutcome.PIN_OK if check.first_use else ScanOutcome.PIN_REUSED) if check.verified else ScanOutcome.PIN_WRONG
    )
    if check.verified and not check.first_use:
        verdict.warnings.append(rules.pin_reused_warning(check.first_used_at))


def _pin_check(
    info: ProductInfo, batch: BatchInfo, row: CodeRow, serial: str, pin: str, now: datetime
) -> rules.PinCheck:
    if not batch.with_pin or not pin_matches(info.key, info.tweak, serial, pin.strip()):
        return rules.PinCheck(verified=False)
    # Or used by a lost try of this same check (at the same instant): still this buyer's first use.
    first_use = rows.claim_pin(code_id=row.code_id, at=now) or row.pin_first_used_at == now
    return rules.PinCheck(verified=True, first_use=first_use, first_used_at=now if first_use else row.pin_first_used_at)


def _add_recall_message(verdict: rules.Verdict, change_id: int) -> None:
    """The brand's own words to consumers about a recall, in every language it wrote them in (the wording picks
    the scanner's); a rare path: one read, only for recalled units."""
    row = StatusChange.objects.filter(pk=change_id).values_list("consumer_message", "consumer_messages").first()
    if row and (row[0] or row[1]):
        words = {"message": row[0], "messages": row[1] or {}}
        verdict.warnings = [
            rules.VerdictWarning(w.code, {**w.params, **words}) if w.code == rules.RECALLED else w
            for w in verdict.warnings
        ]


def code_identity(*, path: str, query: str) -> str | None:
    """A code as its product's tweak (GTIN, or ref: the same whichever URL of an upgraded product was scanned)
    + serial in its product's canonical spelling, whatever the path looked like: what per-code limits count on.
    None when the path names no code of ours (no database read)."""
    try:
        link = gs1.parse_verify_link(path, query)
    except gs1.GS1Error:
        return None
    info = product_cache.get(link.key) if link.serial else None
    if info is None or link.serial is None:
        return None
    return f"{info.tweak}:{info.codec.format.normalise(link.serial)}"
