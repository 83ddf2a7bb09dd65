"""Owners who registered a unit: one registration per unit, its contact sealed under the brand's key
(owners.sealing), and the consents given, each purpose on its own with the wording's version and time."""

from django.db import models
from django.utils import timezone

from brands.models import Brand, BrandKey, BrandOwnedQuerySet
from codes.models import Code

from .sealing import Contact, associated_data, unseal
from .warranty import warranty_ends


class Purpose(models.TextChoices):
    """What an owner's details may be used for: asked one by one, never bundled (Malaysia's PDPA, s. 6-7)."""

    WARRANTY = "warranty", "Registration and warranty"
    SAFETY = "safety", "Recall and safety messages"
    MARKETING = "marketing", "Marketing"


class Registration(models.Model):
    """A unit's owner. The contact (name, e-mail, phone) is a sealed blob: read it with `contact()`."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="registrations")
    code = models.OneToOneField(Code, on_delete=models.CASCADE, related_name="registration")
    key = models.ForeignKey(BrandKey, on_delete=models.PROTECT, related_name="+")
    sealed_contact = models.BinaryField()
    purchase_place = models.CharField(max_length=120, blank=True)
    purchased_on = models.DateField(null=True, blank=True)
    language = models.CharField(max_length=10, blank=True, help_text="The page's language: the owner's for messages")
    scan_id = models.BigIntegerField(null=True, blank=True, help_text="The scan whose page offered the registration")
    registered_at = models.DateTimeField(default=timezone.now)

    brand_path = "brand"
    url_id = "registration_id"
    export_exclude = ("sealed_contact",)  # sealed under a key derived from our MASTER_KEY: useless outside
    objects = BrandOwnedQuerySet.as_manager()

    def __str__(self):
        return f"registration of unit {self.code_id}"  # never the contact

    def __repr__(self):
        return f"<Registration {self.pk} unit={self.code_id}>"

    def contact(self) -> Contact:
        """The owner's contact, decrypted: for members with `owners.view`, never to be logged."""
        return unseal(self.key.secret(), bytes(self.sealed_contact), associated_data(self.brand_id, self.code_id))

    def warranty_ends_on(self):
        return warranty_ends(
            purchased_on=self.purchased_on,
            registered_on=timezone.localdate(self.registered_at),
            months=self.code.product.warranty_months,
        )


class Consent(models.Model):
    """One purpose an owner was asked about: whether they agreed, to which wording, and when."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    given = models.BooleanField()
    wording_version = models.CharField(max_length=20, help_text="The version of the words the owner read")
    language = models.CharField(max_length=10, blank=True)
    at = models.DateTimeField(default=timezone.now)

    brand_path = "registration__brand"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["registration", "purpose"], name="one_consent_per_purpose")]

    def __str__(self):
        return f"{self.purpose}: {'yes' if self.given else 'no'} ({self.wording_version})"
