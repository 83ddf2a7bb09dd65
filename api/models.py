from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from brands.models import Brand, BrandOwnedQuerySet


class IdempotentRequest(models.Model):
    """A POST sent with an `Idempotency-Key`: what it asked (a fingerprint of method, path and body) and what it
    was answered, so that a retry with the same key gets the same answer and does nothing a second time.

    The row is written in the same transaction as the work it guards: a committed row always has its answer."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body")
    status = models.PositiveSmallIntegerField()
    body = models.JSONField(encoder=DjangoJSONEncoder, null=True)
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    brand_path = "brand"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["brand", "key"], name="idempotency_key_unique_per_brand")]

    def __str__(self):
        return f"{self.key} -> {self.status}"
