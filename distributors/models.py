from django.conf import settings
from django.db import models

from brands.models import Brand, BrandOwnedQuerySet, distributor_scope
from codes.models import CodeBatch, PrintJob

from .territory import describe


class Distributor(models.Model):
    """A company that receives ranges of a brand's units and may sell them only inside its territory."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="distributors")
    name = models.CharField(max_length=120)
    code = models.CharField(max_length=20, help_text="Short code, unique in the brand (e.g. KL-SEL)")
    contact_name = models.CharField(max_length=120, blank=True)
    contact_email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    # ISO 3166-1 alpha-2 countries and ISO 3166-2 subdivisions ("SG", "MY-14"), upper-case, sorted.
    territory = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    brand_path = "brand"
    url_id = "distributor_id"
    distributor_path = "pk"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["brand", "code"], name="distributor_code_unique_per_brand")]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def territory_names(self) -> str:
        return describe(self.territory)


class AssignmentEnd(models.TextChoices):
    MOVED = "moved", "Moved to another distributor"
    RETURNED = "returned", "Returned to the brand"


class Assignment(models.Model):
    """Positions [first_position, last_position] (1-based, inclusive, print order) of a batch given to a
    distributor. Rows are never edited away: a move or return ends the row (`ended_at`) and, for what stays,
    writes new ones that point back at it (`replaces`), so the history of every unit stays visible.

    Current rows (ended_at IS NULL) of one batch never overlap; on PostgreSQL an exclusion constraint on
    int8range holds that under concurrency (migration 0002)."""

    batch = models.ForeignKey(CodeBatch, on_delete=models.CASCADE, related_name="assignments")
    # RESTRICT: a distributor with history cannot be deleted alone, yet goes with its brand.
    distributor = models.ForeignKey(Distributor, on_delete=models.RESTRICT, related_name="assignments")
    first_position = models.PositiveIntegerField()
    last_position = models.PositiveIntegerField()
    shipment_reference = models.CharField(max_length=80, blank=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    assigned_at = models.DateTimeField(auto_now_add=True)
    replaces = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    end_reason = models.CharField(max_length=10, choices=AssignmentEnd.choices, blank=True)

    brand_path = "distributor__brand"
    url_id = "assignment_id"
    distributor_path = "distributor"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["batch", "first_position", "-assigned_at"]
        indexes = [
            models.Index(
                fields=["batch", "first_position"], condition=models.Q(ended_at__isnull=True), name="assignment_current"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(first_position__gte=1, last_position__gte=models.F("first_position")),
                name="assignment_range_valid",
            )
        ]

    def __str__(self):
        return f"{self.batch_id}: {self.first_position}-{self.last_position} → {self.distributor_id}"

    @property
    def quantity(self) -> int:
        return self.last_position - self.first_position + 1

    @property
    def is_current(self) -> bool:
        return self.ended_at is None


class SsccCounter(models.Model):
    """The next SSCC serial reference under one GS1 company prefix (SSCCs must never repeat)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    company_prefix = models.CharField(max_length=12, unique=True)
    next_reference = models.BigIntegerField(default=1)

    brand_path = "brand"
    objects = BrandOwnedQuerySet.as_manager()

    def __str__(self):
        return f"{self.company_prefix}: {self.next_reference}"


class Carton(models.Model):
    """A shipping case holding positions [first_position, last_position] of a batch, identified by an SSCC
    (GS1 AI 00). Assigning or receiving a carton assigns or receives exactly its units."""

    batch = models.ForeignKey(CodeBatch, on_delete=models.CASCADE, related_name="cartons")
    sscc = models.CharField("SSCC", max_length=18, unique=True)
    first_position = models.PositiveIntegerField()
    last_position = models.PositiveIntegerField()
    packed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    received_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    brand_path = "batch__product__brand"
    url_id = "carton_id"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["batch", "first_position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "first_position"], name="carton_start_unique_per_batch"),
            models.CheckConstraint(
                condition=models.Q(first_position__gte=1, last_position__gte=models.F("first_position")),
                name="carton_range_valid",
            ),
        ]

    def __str__(self):
        return self.sscc

    @property
    def quantity(self) -> int:
        return self.last_position - self.first_position + 1


# --- What a distributor's people and keys see of rows that are not theirs by a field (brands.models) -------


def held_by(distributor_id: int) -> models.QuerySet:
    """Current assignments of a distributor covering the outer row's positions of its batch (the outer row has
    `batch`, `first_position` and `last_position`: a carton, a print job)."""
    return Assignment.objects.filter(
        distributor_id=distributor_id,
        ended_at__isnull=True,
        batch=models.OuterRef("batch"),
        first_position__lte=models.OuterRef("first_position"),
        last_position__gte=models.OuterRef("last_position"),
    )


@distributor_scope(Carton)
def cartons_held(distributor_id: int) -> models.Exists:
    """The cartons inside a range the distributor holds now."""
    return models.Exists(held_by(distributor_id))


@distributor_scope(PrintJob)
def print_jobs_held(distributor_id: int) -> models.Exists:
    """The print jobs (their files) wholly inside a range the distributor holds now: what it may print."""
    return models.Exists(held_by(distributor_id))
