from django.db import models
from django.utils import timezone

from brands.files import RandomName
from brands.models import Brand, BrandOwnedQuerySet
from codes.models import Code, Product
from distributors.models import Distributor


class ScanSource(models.TextChoices):
    QR = "qr", "QR page"
    API = "api", "API (JSON)"
    PIN = "pin", "PIN check"
    PREVIEW = "preview", "Link preview or crawler (not counted)"
    PAGE = "page", "Page view the browser did not confirm (not counted)"


class ScanOutcome(models.TextChoices):
    AUTHENTIC = "authentic", "Authentic"
    NOT_RECOGNISED = "not_recognised", "Not recognised"
    INACTIVE = "inactive", "Not active (recalled, destroyed, expired…)"
    PIN_OK = "pin_ok", "PIN verified"
    PIN_REUSED = "pin_reused", "PIN already used"
    PIN_WRONG = "pin_wrong", "PIN wrong"
    UNVERIFIED_BRAND = "unverified_brand", "Brand not yet verified"


class Scan(models.Model):
    """One verify request: evidence for clone and grey-market detection. Never the raw IP."""

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


class CounterfeitReport(models.Model):
    """A consumer's report of where a code that did not verify was bought."""

    brand = models.ForeignKey(Brand, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    gtin = models.CharField(max_length=14, blank=True)
    serial = models.CharField(max_length=40, blank=True)
    where_bought = models.CharField("where did you buy it?", max_length=300)
    notes = models.TextField(blank=True, max_length=2000)
    contact_email = models.EmailField(blank=True)
    # Re-encoded without metadata (brands.files.clean_image), under a random name: never the consumer's.
    photo = models.ImageField(upload_to=RandomName("counterfeit-reports", dated=True), blank=True)
    ip_hash = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    brand_path = "brand"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Report {self.pk}: {self.gtin}/{self.serial}"
