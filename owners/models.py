"""Owners who registered a unit: one registration per unit, its contact sealed under the brand's key
(owners.sealing), and the consents given, each purpose on its own with the wording's version and time."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from brands.models import Brand, BrandKey, BrandOwnedQuerySet
from codes.models import Code, StatusChange

from .sealing import Contact, associated_data, unseal
from .warranty import warranty_ends


class Purpose(models.TextChoices):
    """What an owner's details may be used for: asked one by one, never bundled (Malaysia's PDPA, s. 6-7)."""

    WARRANTY = "warranty", "Registration and warranty"
    SAFETY = "safety", "Recall and safety messages"
    MARKETING = "marketing", "Marketing"


class ErasedBy(models.TextChoices):
    OWNER = "owner", "the owner"
    BRAND = "brand", "the brand, on request"
    RETENTION = "retention", "the retention period"


class Registration(models.Model):
    """A unit's owner. The contact (name, e-mail, phone) is a sealed blob: read it with `contact()`.

    Erased (by the owner, the brand on request, or retention), the row stays as a tombstone without any personal
    data (no contact, lookup, purchase details or consents): the unit stays registered, so a later registration
    of it is a second person's (a finding), never a silent fresh start on a copied label."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="registrations")
    code = models.OneToOneField(Code, on_delete=models.CASCADE, related_name="registration")
    key = models.ForeignKey(BrandKey, on_delete=models.PROTECT, related_name="+")
    sealed_contact = models.BinaryField()
    contact_lookup = models.CharField(
        max_length=64, blank=True, db_index=True, help_text="Blind index of the e-mail (owners.sealing.email_lookup)"
    )
    purchase_place = models.CharField(max_length=120, blank=True)
    purchased_on = models.DateField(null=True, blank=True)
    language = models.CharField(max_length=10, blank=True, help_text="The page's language: the owner's for messages")
    scan_id = models.BigIntegerField(null=True, blank=True, help_text="The scan whose page offered the registration")
    registered_at = models.DateTimeField(default=timezone.now)
    erased_at = models.DateTimeField(null=True, blank=True)
    erased_by = models.CharField(max_length=10, choices=ErasedBy.choices, blank=True)

    brand_path = "brand"
    url_id = "registration_id"
    # Sealed under a key derived from our MASTER_KEY (useless outside); the lookup is the address's blind index.
    export_exclude = ("sealed_contact", "contact_lookup")
    objects = BrandOwnedQuerySet.as_manager()

    def __str__(self):
        return f"registration of unit {self.code_id}"  # never the contact

    def __repr__(self):
        return f"<Registration {self.pk} unit={self.code_id}>"

    def contact(self) -> Contact:
        """The owner's contact, decrypted: for members with `owners.view`, never to be logged."""
        return unseal(self.key.secret(), bytes(self.sealed_contact), associated_data(self.brand_id, self.code_id))

    @property
    def erased(self) -> bool:
        return self.erased_at is not None

    def current_consents(self) -> list["Consent"]:
        """The latest answer for each purpose (a withdrawal is a newer answer), in the purposes' order."""
        latest: dict[str, Consent] = {}
        for consent in sorted(self.consents.all(), key=lambda c: (c.at, c.pk)):
            latest[consent.purpose] = consent
        return [latest[purpose] for purpose in Purpose.values if purpose in latest]

    def warranty_ends_on(self):
        return warranty_ends(
            purchased_on=self.purchased_on,
            registered_on=timezone.localdate(self.registered_at),
            months=self.code.product.warranty_months,
        )


class Consent(models.Model):
    """One answer about one purpose: whether the owner agreed, to which wording, and when. A withdrawal is a new
    answer, so the rows of a purpose are its history and the latest is what holds."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    given = models.BooleanField()
    wording_version = models.CharField(max_length=20, help_text="The version of the words the owner read")
    language = models.CharField(max_length=10, blank=True)
    at = models.DateTimeField(default=timezone.now)

    brand_path = "registration__brand"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["registration", "purpose", "at"], name="consent_history")]

    def __str__(self):
        return f"{self.purpose}: {'yes' if self.given else 'no'} ({self.wording_version})"


class NoticeStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    BOUNCED = "bounced", "Bounced (the address was refused)"
    FAILED = "failed", "Failed (given up after retries)"


class RecallNotice(models.Model):
    """One owner's e-mail about one recall: claimed before it is sent, so a repeated recall or task sends it at
    most once. Never holds the address: the worker unseals it from the registration when it sends."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    change = models.ForeignKey(StatusChange, on_delete=models.CASCADE, related_name="+")
    # Kept when the owner's registration is erased: the recall's report still counts the e-mail.
    registration = models.ForeignKey(Registration, null=True, on_delete=models.SET_NULL, related_name="recall_notices")
    status = models.CharField(max_length=8, choices=NoticeStatus.choices, default=NoticeStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    smtp_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The mail server's refusal")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When its next try is due at the broker (sent, or retried with backoff): a waiting notice past it by
    # WORK_RESEND_SECONDS lost its message and is sent again (owners.tasks.resend_stalled_notices_task).
    enqueued_at = models.DateTimeField(default=timezone.now)

    brand_path = "brand"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["change", "registration"], name="one_recall_notice_per_owner")]

    def __str__(self):
        return f"recall {self.change_id} notice {self.pk}: {self.status}"


class RewardProgramme(models.Model):
    """A brand's points for registering its products (optional, off until the brand turns it on): paid for the
    first registration of a unit only, and at most so many a day to one person and from one device, so that
    registering piles of units (bought, found or copied) does not farm points."""

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="reward_programme")
    enabled = models.BooleanField("Reward registrations with points", default=False)
    points = models.PositiveIntegerField(
        "Points per registration", default=10, validators=[MinValueValidator(1), MaxValueValidator(100_000)]
    )
    person_daily_cap = models.PositiveSmallIntegerField(
        "Paid registrations a day per person",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="One person is one e-mail address; more registrations that day earn nothing",
    )
    device_daily_cap = models.PositiveSmallIntegerField(
        "Paid registrations a day per device",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="A device is the network and browser that scanned the unit (as detection counts devices)",
    )

    brand_path = "brand"
    objects = BrandOwnedQuerySet.as_manager()

    def __str__(self):
        return f"rewards of {self.brand_id}: {'on' if self.enabled else 'off'}"


class Refusal(models.TextChoices):
    """Why a first registration earned no points."""

    NO_EMAIL = "no_email", "no e-mail address to keep the points under"
    PERSON_CAP = "person_cap", "the person's daily cap was reached"
    DEVICE_CAP = "device_cap", "the device's daily cap was reached"


class PointsAward(models.Model):
    """The ledger: one row per first registration made while the brand's programme was on, paid or refused
    (`points` 0 and the reason). One per registration (the unique registration), so a unit never pays twice;
    the registration stays as a tombstone after erasure, so re-registering it cannot pay again either. Whose
    points they are is the registration's blind index (dropped by erasure, and the points with it)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    registration = models.OneToOneField(Registration, on_delete=models.CASCADE, related_name="award")
    points = models.PositiveIntegerField()
    refused = models.CharField(max_length=12, choices=Refusal.choices, blank=True)
    device = models.CharField(max_length=10, blank=True, help_text="scans.context.device_id of the unit's scan")
    awarded_at = models.DateTimeField(default=timezone.now)

    brand_path = "brand"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["brand", "device", "awarded_at"], name="award_device_day")]

    def __str__(self):
        return f"{self.points} points for registration {self.registration_id}"
