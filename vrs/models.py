"""The log of trading partners' verification requests: who asked (key and GLN), of which product identifier, why
(`context`), and what they were answered. Each request is also a scan in the scan log (source: trading partner)."""

from django.db import models
from django.utils import timezone

from brands.models import ApiKey, Brand, BrandOwnedQuerySet
from codes.models import Code

from . import answers


class FailureReason(models.TextChoices):
    NO_MATCH_GTIN_SERIAL = answers.NO_MATCH_GTIN_SERIAL, "GTIN and serial match no unit"
    NO_MATCH_LOT = answers.NO_MATCH_LOT, "Lot does not match"
    NO_MATCH_EXPIRY = answers.NO_MATCH_EXPIRY, "Expiry does not match"
    NO_MATCH_LOT_EXPIRY = answers.NO_MATCH_LOT_EXPIRY, "Lot and expiry do not match"
    MANUFACTURER_POLICY = answers.MANUFACTURER_POLICY, "Manufacturer policy (brand not yet verified)"
    NO_REASON = answers.NO_REASON, "No reason provided"
    NOT_FOR_REDISTRIBUTION = answers.NOT_FOR_REDISTRIBUTION, "Not for re-distribution"


class AdditionalInfo(models.TextChoices):
    EXPIRED = answers.EXPIRED, "Expired"
    EXPIRATION_EXTENDED = answers.EXPIRATION_EXTENDED, "Expiration extended"
    RECALLED = answers.RECALLED, "Recalled"
    SUSPECT = answers.SUSPECT, "Suspect"
    ILLEGITIMATE = answers.ILLEGITIMATE, "Illegitimate"


class VrsRequest(models.Model):
    """One verification request a trading partner made, and the answer it got."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+", db_index=False)
    api_key = models.ForeignKey(ApiKey, null=True, on_delete=models.SET_NULL, related_name="+")
    requester_gln = models.CharField("requester's GLN", max_length=13)
    # The product identifier as asked (validated GS1 values), and the unit it named when it named one.
    gtin = models.CharField(max_length=14)
    lot = models.CharField(max_length=20)
    serial = models.CharField(max_length=20)
    expiry = models.CharField(max_length=6, help_text="YYMMDD, as asked")
    code = models.ForeignKey(Code, null=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    corr_uuid = models.CharField("correlation UUID", max_length=36)
    context = models.CharField(max_length=40, blank=True, help_text="Why, e.g. dscsaSaleableReturn")
    verified = models.BooleanField()
    failure_reason = models.CharField(max_length=32, choices=FailureReason.choices, blank=True)
    additional_info = models.CharField(max_length=20, choices=AdditionalInfo.choices, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)

    brand_path = "brand"
    url_id = "vrs_request_id"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["brand", "-requested_at"], name="vrs_request_brand_recent")]

    def __str__(self):
        return f"{self.requester_gln} asked {self.gtin}/{self.serial} at {self.requested_at:%Y-%m-%d %H:%M}"

    @property
    def result(self) -> str:
        """The answer in a word: verified, verified with what to know, or why not."""
        if not self.verified:
            return self.get_failure_reason_display()
        return f"Verified: {self.get_additional_info_display()}" if self.additional_info else "Verified"
