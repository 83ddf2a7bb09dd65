from django.conf import settings
from django.db import models
from django.utils import timezone

from brands.models import Brand, BrandOwnedQuerySet
from codes.models import Code, CodeBatch, Product
from core.files import RandomName
from distributors.models import Distributor


class ScanSource(models.TextChoices):
    QR = "qr", "QR page"
    API = "api", "API (JSON)"
    PIN = "pin", "PIN check"
    PREVIEW = "preview", "Link preview or crawler (not counted)"
    PAGE = "page", "Page view the browser did not confirm (not counted)"
    # A trading partner's verification request (vrs): logged and judged, never a consumer's first scan.
    PARTNER = "partner", "Trading partner (verification request)"


class ScanOutcome(models.TextChoices):
    AUTHENTIC = "authentic", "Authentic"
    NOT_RECOGNISED = "not_recognised", "Not recognised"
    INACTIVE = "inactive", "Not active (recalled, destroyed, expired…)"
    PIN_OK = "pin_ok", "PIN verified"
    PIN_REUSED = "pin_reused", "PIN already used"
    PIN_WRONG = "pin_wrong", "PIN wrong"
    UNVERIFIED_BRAND = "unverified_brand", "Brand not yet verified"
    NOT_ACTIVATED = "not_activated", "Not yet activated (scanned before its unit went live)"


class Scan(models.Model):
    """One verify request: evidence for clone and grey-market detection. Never the raw IP.

    On PostgreSQL the table is partitioned by month of `scanned_at` (scans.partitions; migration 0008): the
    database's primary key is (id, scanned_at), as partitioning requires, while `id` alone stays the model's pk
    (one sequence: ids are unique all the same). Old months are dropped whole by retention.
    """

    # Rows are written on the public hot path: no DB FK checks; codes are never deleted.
    code = models.ForeignKey(Code, null=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    # (brand, -scanned_at) below serves brand lookups; a second brand index would only slow every INSERT.
    brand = models.ForeignKey(
        Brand, null=True, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    product = models.ForeignKey(
        Product, null=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    # What was asked for, as text, so unrecognised codes can be analysed too (truncated, never trusted).
    gtin = models.CharField(max_length=14, blank=True)
    serial = models.CharField(max_length=40, blank=True)
    scanned_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=8, choices=ScanSource.choices, default=ScanSource.QR)
    outcome = models.CharField(max_length=16, choices=ScanOutcome.choices)
    place = models.CharField(max_length=160, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region_code = models.CharField(max_length=8, blank=True, help_text="ISO 3166-2, e.g. MY-14")
    country_code = models.CharField(max_length=2, blank=True)
    location_source = models.CharField(max_length=3, blank=True, help_text="ip or gps")
    user_agent_family = models.CharField(max_length=60, blank=True)
    ip_hash = models.CharField(max_length=32, blank=True)
    # The distributor holding the unit when it was scanned, and whether the scan's place (when known) lay
    # outside that distributor's territory: grey-market evidence the brand sees, never the consumer.
    distributor = models.ForeignKey(
        Distributor, null=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    out_of_territory = models.BooleanField(default=False)

    brand_path = "brand"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-scanned_at"]
        indexes = [models.Index(fields=["brand", "-scanned_at"], name="scan_brand_recent")]

    def __str__(self):
        return f"{self.gtin}/{self.serial} at {self.scanned_at:%Y-%m-%d %H:%M} ({self.outcome})"


class ReportStatus(models.TextChoices):
    NEW = "new", "New"
    REVIEWED = "reviewed", "Reviewed"
    CLOSED = "closed", "Closed"


class CounterfeitReport(models.Model):
    """A consumer's report of where a code that did not verify was bought."""

    brand = models.ForeignKey(Brand, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # The scan whose page the consumer reported from (and through it the code, when the serial was ours).
    # No database constraint: the partitioned scan log has no unique key on `id` alone to point at; retention
    # unlinks reports from the months it drops (scans.partitions), the ORM's SET_NULL does it for row deletes.
    scan = models.ForeignKey(
        Scan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.NEW)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    gtin = models.CharField(max_length=14, blank=True)
    serial = models.CharField(max_length=40, blank=True)
    where_bought = models.CharField("where did you buy it?", max_length=300)
    notes = models.TextField(blank=True, max_length=2000)
    contact_email = models.EmailField(blank=True)
    # Re-encoded without metadata (core.files.clean_image), under a random name: never the consumer's.
    photo = models.ImageField(upload_to=RandomName("counterfeit-reports", dated=True), blank=True)
    ip_hash = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    brand_path = "brand"
    url_id = "report_id"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Report {self.pk}: {self.gtin}/{self.serial}"


class DetectionSettings(models.Model):
    """A brand's thresholds for the detection rules (scans.rules.Thresholds); defaults until edited."""

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="detection")
    max_regions = models.PositiveSmallIntegerField(
        default=4, help_text="A code scanned from more distinct regions (states, provinces) is a likely copy"
    )
    max_devices = models.PositiveSmallIntegerField(
        default=10, help_text="A code scanned by more distinct devices (network + browser) is a likely copy"
    )
    max_speed_kmh = models.PositiveIntegerField(
        "impossible travel speed (km/h)", default=900, help_text="Two scans further apart than this speed allows"
    )
    min_travel_km = models.PositiveIntegerField(
        "minimum travel distance (km)", default=300, help_text="Closer than this, places are too coarse to judge"
    )
    markets = models.JSONField(
        default=list, blank=True, help_text="Countries you sell in (ISO codes such as MY, SG); empty: everywhere"
    )
    blocked_countries = models.JSONField(default=list, blank=True, help_text="Countries your goods must never be in")
    hot_spot_scans = models.PositiveIntegerField(
        default=20, help_text="Not-recognised scans of one GTIN from one region that make a hot spot …"
    )
    hot_spot_minutes = models.PositiveIntegerField(default=60, help_text="… within this many minutes")
    late_scan_alerts = models.BooleanField(
        default=True, help_text="Alert on scans of expired, recalled or destroyed units"
    )

    brand_path = "brand"
    objects = BrandOwnedQuerySet.as_manager()

    def __str__(self):
        return f"Detection settings of {self.brand}"


class AlertKind(models.TextChoices):
    LIKELY_COPY = "likely_copy", "Likely copy"
    GREY_MARKET = "grey_market", "Grey market"
    OFF_MARKET = "off_market", "Off market"
    HOT_SPOT = "hot_spot", "Counterfeit hot spot"
    LATE_SCAN = "late_scan", "Late scan"
    EARLY_SCAN = "early_scan", "Scanned before activation"
    SECOND_REGISTRATION = "second_registration", "Registered by a second person"


class AlertStatus(models.TextChoices):
    NEW = "new", "New"
    INVESTIGATING = "investigating", "Investigating"
    ESCALATED = "escalated", "Escalated"
    CLOSED = "closed", "Closed"


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Alert(models.Model):
    """Something a brand should look into. At most one open alert per code (or hot-spot region) and kind:
    later scans add evidence and grow its count instead of opening another."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.MEDIUM)
    status = models.CharField(max_length=14, choices=AlertStatus.choices, default=AlertStatus.NEW)
    # What the alert is about: "code:<id>" or, for a hot spot, "hot_spot:<gtin>:<region>".
    key = models.CharField(max_length=80)
    code = models.ForeignKey(Code, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+")
    distributor = models.ForeignKey(
        Distributor, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    gtin = models.CharField(max_length=14, blank=True)
    serial = models.CharField(max_length=40, blank=True)
    place = models.CharField(max_length=160, blank=True)
    region_code = models.CharField(max_length=8, blank=True)
    country_code = models.CharField(max_length=2, blank=True)
    details = models.JSONField(default=dict, blank=True)
    count = models.PositiveIntegerField(default=1)
    opened_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    close_reason = models.TextField(blank=True)

    brand_path = "brand"
    url_id = "alert_id"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen_at"]
        indexes = [
            models.Index(fields=["brand", "status", "-last_seen_at"], name="alert_inbox"),
            models.Index(fields=["brand", "-last_seen_at"], name="alert_brand_recent"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "kind", "key"], condition=~models.Q(status="closed"), name="one_open_alert_per_key"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status != AlertStatus.CLOSED


class AlertEvidence(models.Model):
    """A scan that opened or grew an alert (unique: a task delivered twice counts it once)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="evidence")
    # No database constraint (the partitioned log cannot be referenced by `id` alone); retention deletes the
    # evidence of the months it drops, as CASCADE would.
    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    added_at = models.DateTimeField(default=timezone.now)

    brand_path = "alert__brand"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-added_at"]
        constraints = [models.UniqueConstraint(fields=["alert", "scan"], name="alert_evidence_once")]

    def __str__(self):
        return f"{self.alert_id}: scan {self.scan_id}"


class AlertEvent(models.Model):
    """The workflow trail: who moved an alert from which status to which, when, and why."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    from_status = models.CharField(max_length=14, choices=AlertStatus.choices, blank=True)
    to_status = models.CharField(max_length=14, choices=AlertStatus.choices)
    note = models.TextField(blank=True)

    brand_path = "alert__brand"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["at"]

    def __str__(self):
        return f"{self.alert_id}: {self.from_status} → {self.to_status}"


class DailyScans(models.Model):
    """The scan log rolled up per brand, day and kind of scan: what the overview reads instead of the log.

    Whole days before today are rolled up once (scans.rollups); today is counted live from the log.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    day = models.DateField()
    product = models.ForeignKey(
        Product, null=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    batch = models.ForeignKey(
        CodeBatch, null=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    country_code = models.CharField(max_length=2, blank=True)
    region_code = models.CharField(max_length=8, blank=True)
    outcome = models.CharField(max_length=16, choices=ScanOutcome.choices)
    source = models.CharField(max_length=8, choices=ScanSource.choices)
    scans = models.PositiveIntegerField()
    first_scans = models.PositiveIntegerField(help_text="Scans that were their code's first")
    out_of_territory = models.PositiveIntegerField()

    brand_path = "brand"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["brand", "day"], name="daily_scans_brand_day")]

    def __str__(self):
        return f"{self.day}: {self.scans} scans ({self.outcome})"


class RollupState(models.Model):
    """How far a brand's scan log is rolled up into DailyScans (whole days, up to and including this one)."""

    brand = models.OneToOneField(Brand, primary_key=True, on_delete=models.CASCADE, related_name="+")
    rolled_through = models.DateField(null=True)

    brand_path = "brand"
    objects = BrandOwnedQuerySet.as_manager()

    def __str__(self):
        return f"Scans of brand {self.brand_id} rolled up through {self.rolled_through}"
