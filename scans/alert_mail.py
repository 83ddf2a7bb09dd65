"""Alert e-mails: one per alert event to the subscribers who want them at once, or one digest a day of that
day's alerts. Written for people, in each subscriber's language: the product, lot and serial, what detection
found (the wording layer's words), where (place names, not ISO codes), and a link to the alert's page."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone, translation

from brands.models import Brand
from distributors import territory
from notifications import services as notifications
from notifications.models import EmailFrequency, EmailSubscription

from . import rules, wording
from .models import Alert

ALERT_EVENTS = ("alert.opened", "alert.updated")
ALERT_TEMPLATE = "notifications/email/alert"
DIGEST_TEMPLATE = "notifications/email/digest"


@dataclass(frozen=True)
class AlertFacts:
    """An alert as an e-mail tells it (words already in the reader's language)."""

    title: str
    product: str
    gtin: str
    lot: str
    expires_on: date | None
    serial: str
    reasons: list[str]
    where: str
    regions: list[str]  # a likely copy: every region its unit was scanned in
    distributor: str
    count: int
    status: str
    last_seen_at: datetime
    url: str


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _alerts_with_facts():
    return Alert.objects.select_related("brand", "product", "distributor", "code__batch__lot")


def facts(alert: Alert) -> AlertFacts:
    """Call under the reader's language: titles and reasons come from the wording layer."""
    lot = alert.code.batch.lot if alert.code_id and alert.code else None
    where = territory.place_name(place=alert.place, region_code=alert.region_code, country_code=alert.country_code)
    distributor = alert.distributor.name if alert.distributor_id and alert.distributor else ""
    return AlertFacts(
        title=wording.alert_title(alert.kind),
        product=str(alert.product) if alert.product_id and alert.product else "",
        gtin=alert.gtin,
        lot=lot.number if lot else "",
        expires_on=lot.expires_on if lot else None,
        serial=alert.serial,
        reasons=wording.alert_reasons(alert.kind, alert.details, where=where, distributor=distributor),
        where=where,
        regions=_regions(alert),
        distributor=distributor,
        count=alert.count,
        status=wording.alert_status(alert.status),
        last_seen_at=alert.last_seen_at,
        url=absolute_url(reverse("alert_detail", args=[alert.pk])),
    )


def _regions(alert: Alert) -> list[str]:
    if alert.kind != rules.LIKELY_COPY or not alert.code_id or not alert.code:
        return []
    return [territory.place_name(region_code=code) for code in (alert.code.seen_regions or "").split(";") if code]


def wants_alert_email(*, brand_id: int, event: str) -> bool:
    return bool(notifications.subscribers(brand_id=brand_id, event=event, frequency=EmailFrequency.IMMEDIATE))


def send_alert_email(*, alert_id: int, event: str) -> int:
    """E-mail an alert event to the brand's subscribers who want it at once; the number of e-mails sent."""
    alert = _alerts_with_facts().filter(pk=alert_id).first()
    if alert is None:
        return 0
    sent = 0
    for subscription in notifications.subscribers(
        brand_id=alert.brand_id, event=event, frequency=EmailFrequency.IMMEDIATE
    ):
        with translation.override(subscription.language):
            context = {
                "brand": alert.brand,
                "alert": facts(alert),
                "opened": event == "alert.opened",
                "subscription": subscription,
                "settings_url": absolute_url(reverse("notification_settings")),
            }
            sent += notifications.send_templated_email(
                to=subscription.email, language=subscription.language, template=ALERT_TEMPLATE, context=context
            )
    return sent


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def alerts_of_day(brand: Brand, day: date):
    """The brand's alerts that opened or grew on `day` (evidence added that day), with that day's new scans."""
    start, end = day_bounds(day)
    that_day = Q(evidence__added_at__gte=start, evidence__added_at__lt=end)
    return (
        _alerts_with_facts()
        .filter(brand=brand)
        .filter(that_day)
        .annotate(scans_that_day=Count("evidence", filter=that_day, distinct=True))
        .order_by("-last_seen_at")
        .distinct()
    )


def send_alert_digests(*, day: date | None = None) -> int:
    """One e-mail per daily subscriber with the alerts of `day` (yesterday by default: a whole day). A repeat
    sends nothing twice: each subscriber's digest of a day is claimed before it is sent. The number sent."""
    day = day or timezone.localdate() - timedelta(days=1)
    sent = 0
    daily = EmailSubscription.objects.filter(frequency=EmailFrequency.DAILY, confirmed_at__isnull=False)
    daily = daily.select_related("brand")
    for subscription in daily.order_by("brand_id", "pk"):
        if not any(subscription.wants(event) for event in ALERT_EVENTS):
            continue
        alerts = list(alerts_of_day(subscription.brand, day))
        if not alerts:
            continue
        digest = notifications.claim_digest(subscription=subscription, day=day, alerts=len(alerts))
        if digest is None:
            continue  # sent already (or being sent by another worker)
        try:
            sent += _send_digest(subscription, day, alerts)
        except Exception:
            notifications.release_digest(digest)
            raise
        notifications.digest_sent(digest)
    return sent


def _send_digest(subscription: EmailSubscription, day: date, alerts: list[Alert]) -> int:
    with translation.override(subscription.language):
        context = {
            "brand": subscription.brand,
            "day": day,
            # `scans_that_day` is annotated by the query
            "alerts": [(facts(alert), alert.scans_that_day) for alert in alerts],  # type: ignore[attr-defined]
            "subscription": subscription,
            "inbox_url": absolute_url(reverse("alert_list")),
            "settings_url": absolute_url(reverse("notification_settings")),
        }
        return notifications.send_templated_email(
            to=subscription.email, language=subscription.language, template=DIGEST_TEMPLATE, context=context
        )
