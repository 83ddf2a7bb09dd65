from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from brands.models import Brand, BrandKey, BrandOwnedQuerySet
from core.files import RandomName

from . import linktypes, packstates, regulators
from .serials import CROCKFORD32, DIGITS, SerialFormat

MAX_BATCH_QUANTITY = 10_000_000


class SerialAlphabet(models.TextChoices):
    ALNUM = "alnum", "Letters and digits (Crockford base32, no look-alikes)"
    NUMERIC = "numeric", "Digits only"


ALPHABETS = {SerialAlphabet.ALNUM: CROCKFORD32, SerialAlphabet.NUMERIC: DIGITS}
DEFAULT_LENGTHS = {SerialAlphabet.ALNUM: 12, SerialAlphabet.NUMERIC: 13}


class IdentifierKind(models.TextChoices):
    GTIN = "gtin", "GTIN (under your GS1 Company Prefix)"
    BRAND_REF = "brand_ref", "No GTIN: a Serialize product ref"


class Product(models.Model):
    """A trade item of a brand, with the serial format and key its codes are made with.

    Identified by a GTIN, or, for brands without a GS1 prefix, by a Serialize product ref (`ref`: the brand's
    slug, a dot and a number, e.g. `acme.3`; never all digits, so never mistaken for a GTIN). A product with a
    ref may be given a GTIN later and keeps its ref: labels printed with the ref's URL keep verifying."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="products")
    name = models.CharField(max_length=200)
    variant = models.CharField(max_length=120, blank=True)
    gtin = models.CharField("GTIN", max_length=14, unique=True, null=True, blank=True)
    ref = models.CharField("product ref", max_length=80, unique=True, null=True, blank=True, editable=False)
    # A US drug's NDC is the one inside its GTIN (codes.regulators): this keeps only how its label splits it.
    ndc = models.CharField(
        "NDC",
        max_length=12,
        blank=True,
        help_text="US drugs only (GTIN starting 003): the NDC inside the GTIN as your label writes it, e.g. "
        "12345-678-90. Left empty, its 10 digits are shown.",
    )
    registration_number = models.CharField(
        "NPRA registration or notification number",
        max_length=16,
        blank=True,
        help_text="Malaysia: the MAL… registration number of a medicine, traditional product or supplement, or the "
        "NOT… notification number of a cosmetic, as printed on the pack.",
    )
    needs_farmatag = models.BooleanField(
        "must carry the FarmaTag",
        default=False,
        help_text="Registered in Malaysia (MAL…) and required to carry the Ministry of Health's FarmaTag security "
        "label: the verify page tells consumers to check that label too.",
    )
    warranty_months = models.PositiveSmallIntegerField(
        "warranty (months)",
        null=True,
        blank=True,
        help_text="How long a registered unit is under warranty, from its date of purchase; empty for none.",
    )
    image = models.ImageField(upload_to=RandomName("products"), blank=True)
    serial_alphabet = models.CharField(max_length=10, choices=SerialAlphabet.choices, default=SerialAlphabet.ALNUM)
    serial_length = models.PositiveSmallIntegerField(default=12)
    key = models.ForeignKey(BrandKey, on_delete=models.PROTECT, related_name="products")
    # The private counter: ordinals [0, next_ordinal) are reserved by batches, in print order.
    next_ordinal = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    brand_path = "brand"
    url_id = "product_id"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "variant"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(gtin__isnull=False) | models.Q(ref__isnull=False), name="product_has_an_identifier"
            )
        ]

    def __str__(self):
        return f"{self.name}, {self.variant}" if self.variant else self.name

    @property
    def serial_format(self) -> SerialFormat:
        return SerialFormat(ALPHABETS[SerialAlphabet(self.serial_alphabet)], self.serial_length)

    @property
    def identifier_kind(self) -> str:
        return IdentifierKind.GTIN if self.gtin else IdentifierKind.BRAND_REF

    @property
    def serial_tweak(self) -> str:
        """What the serials are encrypted under besides the key: the ref when the product has one (it came
        first and never changes, so a GTIN given later leaves every printed serial valid), else the GTIN."""
        return self.ref or self.gtin or ""

    @property
    def identifier(self) -> str:
        """What people see to tell the product apart: its GTIN, else its ref."""
        return self.gtin or self.ref or ""

    @property
    def ndc_shown(self) -> str:
        """The US NDC inside its GTIN, in its label's form when given, else its 10 digits; "" for none."""
        return regulators.ndc_shown(self.gtin, self.ndc) or ""

    @property
    def registrations(self) -> tuple[regulators.Registration, ...]:
        """Its regulators' identifiers, each with the public search to check it in."""
        return regulators.registrations(gtin=self.gtin, npra_number=self.registration_number, ndc_form=self.ndc)


class Lot(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="lots")
    number = models.CharField(max_length=20)
    manufactured_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    brand_path = "product__brand"
    url_id = "lot_id"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["product", "number"], name="lot_number_unique_per_product")]

    def __str__(self):
        return self.number

    @property
    def is_expired(self) -> bool:
        return self.expires_on is not None and self.expires_on < timezone.localdate()


class BatchState(models.TextChoices):
    QUEUED = "queued", "Queued"
    GENERATING = "generating", "Generating"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class TrackedWork(models.Model):
    """Work a worker does over `quantity` codes, with progress people can watch: batches, print jobs."""

    codes_done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When its task was last handed to the broker: queued work not started WORK_RESEND_SECONDS later is sent again.
    enqueued_at = models.DateTimeField(default=timezone.now)
    # The worker's lease: moved on with every committed chunk. Running work whose heartbeat is WORK_LEASE_SECONDS
    # old lost its worker (killed, its machine gone) and is resumed by the sweep, not after the broker's hour.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    quantity: int
    state: str

    @property
    def is_finished(self) -> bool:
        raise NotImplementedError  # each kind of work says which of its states are final

    @property
    def progress_percent(self) -> int:
        return 100 if self.quantity == 0 else int(100 * self.codes_done / self.quantity)

    def progress(self, **extra: Any) -> dict[str, Any]:
        """What a progress bar polls (the JSON of every progress endpoint): state, codes done of the quantity,
        percent and whether it is over, plus the `extra` keys of one kind of work."""
        return {
            "state": self.state,
            "codes_done": self.codes_done,
            "quantity": self.quantity,
            "percent": self.progress_percent,
            "finished": self.is_finished,
            **extra,
        }

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class CodeBatch(TrackedWork):
    """An order for `quantity` codes: the ordinals [first_ordinal, first_ordinal + quantity) of its product."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="batches")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="batches")
    quantity = models.PositiveIntegerField()
    with_pin = models.BooleanField("scratch PIN", default=False)
    first_ordinal = models.BigIntegerField()
    state = models.CharField(max_length=12, choices=BatchState.choices, default=BatchState.QUEUED)
    ordered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # What people see: 1, 2, 3 … within the brand (the id is global and would show other tenants' volume).
    number = models.PositiveIntegerField(default=0)
    # Units activation moved to active (less those an undo moved back): kept by codes.recalls with each chunk it
    # applies, so the batch page never counts a million rows.
    codes_activated = models.PositiveIntegerField(default=0)
    # Its serials were uploaded by the brand (codes.imports), not derived from ordinals by FF1: they are stored
    # codes like any other, but no generation task ever runs for it and verify finds them by serial.
    imported = models.BooleanField(default=False)

    brand_path = "product__brand"
    url_id = "batch_id"
    objects = BrandOwnedQuerySet.as_manager()

    def __str__(self):
        return f"Batch {self.number}: {self.quantity:,} × {self.product} lot {self.lot}"

    @property
    def end_ordinal(self) -> int:
        return self.first_ordinal + self.quantity

    @property
    def is_finished(self) -> bool:
        return self.state in (BatchState.READY, BatchState.FAILED)


class CodeStatus(models.TextChoices):
    """Pack states after EU FMD; `expired` is derived from the lot, never stored. A unit is generated
    `not_activated` and goes live (`active`) when activated: see `codes.packstates`."""

    ACTIVE = packstates.ACTIVE, "Active"
    SUPPLIED = packstates.SUPPLIED, "Supplied"
    DISPENSED = packstates.DISPENSED, "Dispensed"
    DECOMMISSIONED = packstates.DECOMMISSIONED, "Decommissioned"
    DESTROYED = packstates.DESTROYED, "Destroyed"
    EXPORTED = packstates.EXPORTED, "Exported"
    STOLEN = packstates.STOLEN, "Stolen"
    SAMPLE = packstates.SAMPLE, "Sample"
    FREE_SAMPLE = packstates.FREE_SAMPLE, "Free sample"
    LOCKED = packstates.LOCKED, "Locked"
    CHECKED_OUT = packstates.CHECKED_OUT, "Checked out"
    RECALLED = packstates.RECALLED, "Recalled"
    WITHDRAWN = packstates.WITHDRAWN, "Withdrawn"
    NOT_ACTIVATED = packstates.NOT_ACTIVATED, "Not yet activated"


class Code(models.Model):
    """One unit's identity, with the scan summary the verify page reads in the same row."""

    # Registration speed is the product: no separate FK indexes ((product, ordinal) and (product, serial)
    # serve every lookup), and no database FK constraints, whose deferred per-row checks doubled the cost
    # of COPYing a million codes. Only codes.services inserts codes, with ids it has just read.
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    batch = models.ForeignKey(
        CodeBatch, on_delete=models.CASCADE, related_name="codes", db_index=False, db_constraint=False
    )
    ordinal = models.BigIntegerField()
    serial = models.CharField(max_length=20)
    status = models.CharField(max_length=16, choices=CodeStatus.choices, default=CodeStatus.NOT_ACTIVATED)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    scan_count = models.PositiveIntegerField(default=0)
    first_scanned_at = models.DateTimeField(null=True, blank=True)
    first_scanned_in = models.CharField(max_length=160, blank=True)
    last_scanned_at = models.DateTimeField(null=True, blank=True)
    pin_first_used_at = models.DateTimeField(null=True, blank=True)
    # When the distributor holding this unit confirmed receiving it (its carton or its whole range).
    received_at = models.DateTimeField(null=True, blank=True)
    # The last status change that touched this unit, and the state it changed from: an undo restores it.
    status_change = models.ForeignKey(
        "StatusChange",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    previous_status = models.CharField(max_length=16, choices=CodeStatus.choices, null=True, blank=True)
    # Detection state, kept up to date by the scan count itself (scans.rules reads it; never the scan log):
    # `;`-terminated sets of the regions and devices this unit was scanned from, and its last two located
    # scans as "lat,lon,unix". NULL until first scanned, so unscanned rows cost nothing.
    seen_regions = models.CharField(max_length=300, null=True, blank=True)
    seen_devices = models.CharField(max_length=300, null=True, blank=True)
    last_fix = models.CharField(max_length=40, null=True, blank=True)
    prev_fix = models.CharField(max_length=40, null=True, blank=True)
    suspect_at = models.DateTimeField(null=True, blank=True, help_text="When scans first made it a likely copy")

    brand_path = "product__brand"
    url_id = "code_id"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "serial"], name="code_serial_unique_per_product"),
            models.UniqueConstraint(fields=["product", "ordinal"], name="code_ordinal_unique_per_product"),
        ]

    def __str__(self):
        return self.serial

    @property
    def position(self) -> int:
        """1-based place in its batch's print order."""
        return self.ordinal - self.batch.first_ordinal + 1


class ChangeScope(models.TextChoices):
    LOT = "lot", "A lot"
    BATCH = "batch", "A batch, or a range of its positions"
    SERIALS = "serials", "Listed serials"


class ChangeState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class StatusChange(TrackedWork):
    """One status change of many units at once (a recall is one with `to_status` recalled): the audit trail
    says who, when, which units, from which states (`from_counts`) to which, and why.

    `quantity` is the number of codes in scope; `codes_done` how many of them were processed (progress);
    `codes_changed` how many actually changed (units already recalled, destroyed … are left as they are)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="status_changes")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    to_status = models.CharField(max_length=16, choices=CodeStatus.choices)
    scope = models.CharField(max_length=8, choices=ChangeScope.choices)
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(CodeBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    first_position = models.PositiveIntegerField(null=True, blank=True)
    last_position = models.PositiveIntegerField(null=True, blank=True)
    serials = models.JSONField(default=list, blank=True)
    reason = models.TextField(max_length=2000)
    consumer_message = models.TextField(max_length=500, blank=True, help_text="Shown on the verify page")
    # The same message in the verify page's other languages, {language code: text} ("ms", "zh-hans", "ta"):
    # a scanner reads the one in their phone's language, else `consumer_message`.
    consumer_messages = models.JSONField(default=dict, blank=True)
    quantity = models.PositiveIntegerField(default=0)
    codes_changed = models.PositiveIntegerField(default=0)
    from_counts = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=8, choices=ChangeState.choices, default=ChangeState.QUEUED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    codes_undone = models.PositiveIntegerField(default=0)

    brand_path = "brand"
    url_id = "recall_id"  # a recall or any other status change
    objects = BrandOwnedQuerySet.as_manager()

    class Meta(TrackedWork.Meta):
        indexes = [models.Index(fields=["brand", "-created_at"], name="status_change_brand_recent")]

    def __str__(self):
        return f"{self.get_to_status_display()} #{self.pk}: {self.scope_label}"

    @property
    def is_recall(self) -> bool:
        return self.to_status == CodeStatus.RECALLED

    @property
    def is_finished(self) -> bool:
        return self.state in (ChangeState.DONE, ChangeState.FAILED)

    @property
    def is_stalled(self) -> bool:
        """Failed, or no worker has moved it for WORK_LEASE_SECONDS (killed mid-way, or its task never came):
        the page offers to resume it."""
        if self.state == ChangeState.FAILED:
            return True
        since = self.heartbeat_at if self.state == ChangeState.RUNNING else self.enqueued_at
        quiet = timezone.now() - (since or timezone.now())
        return (
            self.state in (ChangeState.QUEUED, ChangeState.RUNNING)
            and quiet.total_seconds() > settings.WORK_LEASE_SECONDS
        )

    @property
    def scope_label(self) -> str:
        if self.scope == ChangeScope.LOT:
            return f"lot {self.lot}"
        if self.scope == ChangeScope.BATCH:
            return f"batch {self.batch_id}, positions {self.first_position}-{self.last_position}"
        return f"{len(self.serials)} serial(s)"


class PrintFormat(models.TextChoices):
    CSV = "csv", "CSV (serials, verify URLs, GS1 text)"
    QR_SVG = "qr-svg", "QR codes, SVG (ZIP)"
    QR_PNG = "qr-png", "QR codes, PNG (ZIP)"
    DATAMATRIX = "datamatrix", "GS1 DataMatrix, PNG (ZIP)"
    PDF = "pdf", "PDF label sheets"


class PrintState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RENDERING = "rendering", "Rendering"
    FINISHING = "finishing", "Writing manifest"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class PrintJob(TrackedWork):
    """Print files for the positions [first_position, last_position] of a batch (1-based, in print order),
    rendered by workers as parts of at most `part_size` codes, plus a JSON manifest."""

    batch = models.ForeignKey(CodeBatch, on_delete=models.CASCADE, related_name="print_jobs")
    format = models.CharField(max_length=12, choices=PrintFormat.choices)
    options = models.JSONField(default=dict, blank=True)
    first_position = models.PositiveIntegerField()
    last_position = models.PositiveIntegerField()
    part_size = models.PositiveIntegerField()
    state = models.CharField(max_length=12, choices=PrintState.choices, default=PrintState.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # When a worker began writing the manifest: a claim older than a few minutes belonged to a dead worker.
    finishing_since = models.DateTimeField(null=True, blank=True)
    number = models.PositiveIntegerField(default=0)  # 1, 2, 3 … within the brand, as batches

    brand_path = "batch__product__brand"
    url_id = "print_job_id"
    objects = BrandOwnedQuerySet.as_manager()

    def __str__(self):
        return f"Print job {self.number}: {self.format}, positions {self.first_position}-{self.last_position}"

    @property
    def quantity(self) -> int:  # type: ignore[override]  # the job's quantity is its range's
        return self.last_position - self.first_position + 1

    @property
    def is_ready(self) -> bool:
        return self.state == PrintState.READY

    @property
    def is_finished(self) -> bool:
        return self.state in (PrintState.READY, PrintState.FAILED)


class PrintFileState(models.TextChoices):
    PENDING = "pending", "Pending"
    RENDERING = "rendering", "Rendering"
    DONE = "done", "Done"


class PrintFile(models.Model):
    """One output file of a print job: part 1..n of its codes, or part 0, the manifest."""

    MANIFEST = 0

    job = models.ForeignKey(PrintJob, on_delete=models.CASCADE, related_name="files")
    part = models.PositiveIntegerField()
    first_position = models.PositiveIntegerField()
    last_position = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=PrintFileState.choices, default=PrintFileState.PENDING)
    # Each rendering attempt writes under its own claim token, so a redelivered task never clashes with
    # the files of the attempt it replaces; `name` is the storage name of the current attempt.
    claim = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(default=timezone.now)  # as TrackedWork.enqueued_at
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # as TrackedWork.heartbeat_at, while rendering
    name = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Codes the current attempt has written: the job's progress is the sum over its parts.
    codes_done = models.PositiveIntegerField(default=0)

    brand_path = "job__batch__product__brand"
    storage_name_fields = ("name",)  # deleted from storage with the brand (brands/offboarding.py)
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["job", "part"]
        constraints = [models.UniqueConstraint(fields=["job", "part"], name="print_file_part_unique_per_job")]

    def __str__(self):
        return f"{self.job_id}/{self.part}"

    @property
    def is_manifest(self) -> bool:
        return self.part == self.MANIFEST

    @property
    def quantity(self) -> int:
        return self.last_position - self.first_position + 1


class PrintDownload(models.Model):
    """Who downloaded which print file (and which bytes of it) when: the accountability trail."""

    job = models.ForeignKey(PrintJob, on_delete=models.CASCADE, related_name="downloads")
    file = models.ForeignKey(PrintFile, on_delete=models.CASCADE, related_name="downloads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    first_byte = models.BigIntegerField(null=True, blank=True, help_text="Empty for the whole file")
    last_byte = models.BigIntegerField(null=True, blank=True)
    status = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    brand_path = "job__batch__product__brand"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.user} downloaded {self.file} at {self.created_at}"


class ImportFormat(models.TextChoices):
    CSV = "csv", "CSV (one serial a line, in the first column)"
    JSON = "json", "JSON (a list of serials)"


class ImportState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Importing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class SerialImport(TrackedWork):
    """A file of serials a brand's own line or serialization system assigned, registered as a batch of one lot.

    `quantity` is the number of ordinals reserved for it (at most the file's lines, within the plan's limits);
    `codes_done` the lines read so far, `offset` the bytes of the file those lines took: each chunk commits its
    codes, its refused lines and these counters together, so a rerun resumes exactly after the last chunk."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="serial_imports")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="+")
    batch = models.OneToOneField(
        CodeBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="serial_import"
    )
    file = models.FileField(upload_to=RandomName("serial-imports", dated=True))
    format = models.CharField(max_length=8, choices=ImportFormat.choices)
    size = models.BigIntegerField(default=0)  # of the file, in bytes
    offset = models.BigIntegerField(default=0)  # bytes of the file read and committed
    quantity = models.PositiveIntegerField(default=0)
    lines_accepted = models.PositiveIntegerField(default=0)
    lines_refused = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=8, choices=ImportState.choices, default=ImportState.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    brand_path = "brand"
    url_id = "import_id"
    storage_name_fields = ("file",)  # deleted from storage with the brand (brands/offboarding.py)
    objects = BrandOwnedQuerySet.as_manager()

    def __str__(self):
        return f"Import {self.pk}: {self.product} lot {self.lot}"

    @property
    def lines_read(self) -> int:
        return self.codes_done

    @property
    def is_finished(self) -> bool:
        return self.state in (ImportState.DONE, ImportState.FAILED)

    @property
    def progress_percent(self) -> int:
        """By bytes of the file: the number of lines is known only once they are read."""
        if self.state == ImportState.DONE or not self.size:
            return 100 if self.state == ImportState.DONE else 0
        return min(99, int(100 * self.offset / self.size))

    def progress(self, **extra: Any) -> dict[str, Any]:
        return super().progress(
            lines_read=self.codes_done,
            lines_accepted=self.lines_accepted,
            lines_refused=self.lines_refused,
            batch=self.batch_id,
            error=self.error,
            **extra,
        )


class RefusedLine(models.Model):
    """A line of an import that was not registered, and why: the import's report."""

    serial_import = models.ForeignKey(
        SerialImport, on_delete=models.CASCADE, related_name="refused_lines", db_constraint=False, db_index=False
    )
    line = models.PositiveIntegerField()  # 1-based: a CSV file's line, a JSON list's item
    serial = models.CharField(max_length=40)  # as read (cut short), for the report
    reason = models.CharField(max_length=200)

    brand_path = "serial_import__brand"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["serial_import", "line"]
        indexes = [models.Index(fields=["serial_import", "line"], name="refused_line_by_import")]

    def __str__(self):
        return f"line {self.line}: {self.reason}"


class ProductLink(models.Model):
    """A link a product's GS1 Digital Link resolves to for machines and `?linkType=` requests: a leaflet, the
    brand's product page, a recall notice... (GS1 link types, codes.linktypes). The verify page itself is the
    resolver's own gs1:verificationService link and the default for a unit: a brand never replaces it."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="links")
    link_type = models.CharField(max_length=40, choices=linktypes.CHOICES)
    href = models.URLField("address", max_length=1000)
    title = models.CharField(max_length=200)
    language = models.CharField(
        max_length=5, blank=True, help_text="The page's language, e.g. en, ms or en-GB; empty for any."
    )
    media_type = models.CharField(
        max_length=100, blank=True, help_text="What the address serves, e.g. text/html or application/pdf."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    brand_path = "product__brand"
    url_id = "link_id"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["link_type", "language", "pk"]

    def __str__(self):
        return f"{linktypes.curie(self.link_type)} → {self.href}"
