"""Brand offboarding: export everything a brand owns, then delete it, rows and stored files alike.

Generic on purpose: what a brand owns is every model whose manager has ``for_brand`` (a BrandOwnedQuerySet
with a ``brand_path``), found in the app registry, so a model another app adds tomorrow is exported and
deleted without a change here. Nothing crosses tenants: each model is only ever filtered by its brand path.

Deletion is set-based and resumable: stored files first (so no file outlives its row), then the rows, model
by model with children before parents, in chunks of ids, each chunk its own short transaction. Codes and
scans (COPY-inserted, no FK constraints in the database) go by plain DELETE statements, never row by row.
"""

from __future__ import annotations

import io
import json
import logging
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import models, router, transaction
from django.utils import timezone
from zipstream import ZIP_DEFLATED, ZipStream

from core.errors import ServiceError
from core.queueing import enqueue_on_commit

from .models import Brand, BrandDeletion, User
from .spreadsheet import SpreadsheetWriter

log = logging.getLogger(__name__)
CHUNK = 10_000
EXPORT_FOLDER = "brand-exports"


class OffboardingError(ServiceError):
    """A deletion that cannot be asked for as asked."""


# ---------------------------------------------------------------------------------------------------------
# What a brand owns
# ---------------------------------------------------------------------------------------------------------


def brand_owned_models() -> list[type[models.Model]]:
    """Every brand-owned model, children before parents (the order rows can be deleted in)."""
    owned = [
        m
        for m in apps.get_models()
        if getattr(m, "brand_path", None) and hasattr(m._default_manager, "for_brand") and not m._meta.proxy
    ]
    # Kahn's algorithm over "A points at B" (A must go first); self-references are handled when deleting.
    points_at = {m: {f.related_model for f in _foreign_keys(m)} & set(owned) - {m} for m in owned}
    ordered: list[type[models.Model]] = []
    while points_at:
        ready = sorted(
            (m for m in points_at if not any(m in targets for targets in points_at.values())),
            key=lambda m: m._meta.label,
        )
        if not ready:
            raise RuntimeError(f"brand-owned models point at each other in a cycle: {sorted(map(str, points_at))}")
        for model in ready:
            ordered.append(model)
            del points_at[model]
    return ordered


def _foreign_keys(model: type[models.Model]) -> list[models.ForeignKey]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey)]


def rows_of(model: type[models.Model], brand_id: int) -> models.QuerySet:
    return model._default_manager.for_brand(brand_id)  # type: ignore[attr-defined]


def stored_names(model: type[models.Model], brand_id: int) -> Iterator[str]:
    """Names in storage that rows of `model` of the brand refer to: its FileFields and `storage_name_fields`."""
    fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
    fields += list(getattr(model, "storage_name_fields", ()))
    for field in fields:
        names = rows_of(model, brand_id).exclude(**{field: ""}).exclude(**{f"{field}__isnull": True})
        yield from names.values_list(field, flat=True).iterator(chunk_size=CHUNK)


# ---------------------------------------------------------------------------------------------------------
# Use cases: request, cancel, export, delete
# ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def request_deletion(*, brand: Brand, requested_by: User, confirm_slug: str, enqueue: bool = True) -> BrandDeletion:
    """An owner asks for the brand to be deleted: the export starts now, the deletion after the grace period."""
    if confirm_slug.strip() != brand.slug:
        raise OffboardingError("confirm_slug", f"Type the brand's short name, {brand.slug}, to confirm.")
    deletion, created = BrandDeletion.objects.get_or_create(
        brand=brand,
        defaults={
            "requested_by": requested_by,
            "delete_after": timezone.now() + timedelta(days=settings.BRAND_DELETION_GRACE_DAYS),
        },
    )
    if created and enqueue:
        from .tasks import export_brand_task

        enqueue_on_commit(export_brand_task, brand.pk)
    log.info("brand deletion requested", extra={"brand": brand.pk, "by": requested_by.pk})
    return deletion


def cancel_deletion(*, brand: Brand) -> None:
    """Withdraw a deletion request during the grace period; its export is deleted from storage too."""
    deletion = BrandDeletion.objects.filter(brand=brand).first()
    if deletion is None:
        return
    if deletion.export_name:
        default_storage.delete(deletion.export_name)
    deletion.delete()


def forget_export(brand_id: int) -> bool:
    """Personal data of the brand was erased (a consumer's report): an export already made still holds it, so it
    is deleted and made again. True when there was one."""
    deletion = BrandDeletion.objects.filter(brand_id=brand_id).exclude(export_name="").first()
    if deletion is None:
        return False
    default_storage.delete(deletion.export_name)
    BrandDeletion.objects.filter(pk=deletion.pk).update(export_name="", export_size=None, exported_at=None)
    from core.queueing import enqueue_on_commit

    from .tasks import export_brand_task

    enqueue_on_commit(export_brand_task, brand_id)
    return True


def export_brand(brand_id: int) -> BrandDeletion | None:
    """Write the brand's export ZIP (a CSV per model, the uploaded files, a JSON manifest) into storage.
    Idempotent: a deletion request with an export already is left alone."""
    deletion = BrandDeletion.objects.filter(brand_id=brand_id).first()
    if deletion is None or deletion.exported_at is not None:
        return deletion
    name = _claim_export_name(deletion)
    with tempfile.TemporaryFile() as handle:
        size = write_export(brand_id, handle)
        handle.seek(0)
        name = default_storage.save(name, File(handle))
    kept = BrandDeletion.objects.filter(pk=deletion.pk, exported_at__isnull=True).update(
        export_name=name, export_size=size, exported_at=timezone.now()
    )
    if not kept:  # cancelled or exported by another attempt meanwhile
        default_storage.delete(name)
    log.info("brand exported", extra={"brand": brand_id, "bytes": size})
    return BrandDeletion.objects.filter(pk=deletion.pk).first()


def _claim_export_name(deletion: BrandDeletion) -> str:
    """Record where this attempt writes the export before writing it: the ZIP holds personal data, and a worker
    killed while storing it must not leave a partial copy nobody knows of. The next attempt deletes it, as do
    a cancellation and the brand's deletion."""
    name = f"{EXPORT_FOLDER}/{uuid.uuid4().hex}.zip"
    if deletion.export_name:
        default_storage.delete(deletion.export_name)
    BrandDeletion.objects.filter(pk=deletion.pk, exported_at__isnull=True).update(export_name=name)
    return name


def write_export(brand_id: int, out) -> int:
    """Stream the brand's export ZIP into `out`; returns its size. Rows are read a chunk at a time."""
    archive = ZipStream(compress_type=ZIP_DEFLATED, compress_level=6)
    tables = []
    uploaded: list[str] = []
    for model in reversed(brand_owned_models()):  # parents first: the order a reader loads them back in
        columns = _export_columns(model)
        counter = {"rows": 0}
        name = f"{model._meta.app_label}/{model._meta.model_name}.csv"
        archive.add(_csv_rows(model, brand_id, columns, counter), name)
        tables.append((model, name, columns, counter))
        uploaded += [n for n in stored_names(model, brand_id) if _is_upload(n)]
    for name in uploaded:
        archive.add(_stored_bytes(name), f"files/{name}")
    size = 0
    for chunk in archive.all_files():
        out.write(chunk)
        size += len(chunk)
    manifest = {
        "brand": Brand.objects.filter(pk=brand_id).values("id", "name", "slug", "created_at").first(),
        "exported_at": timezone.now().isoformat(),
        "tables": [{"model": m._meta.label, "file": f, "columns": c, "rows": n["rows"]} for m, f, c, n in tables],
        "files": [f"files/{name}" for name in uploaded],
        "not_included": "Print files (rebuild them from codes.csv) and the brand's sealed serial keys.",
        "text_cells": "A cell starting with = + - @, a tab or a carriage return has a leading ' added, so that a "
        "spreadsheet shows it as text instead of running it as a formula; remove it to load the text back.",
    }
    archive.add(json.dumps(manifest, indent=2, default=str).encode(), "manifest.json")
    for chunk in archive:
        out.write(chunk)
        size += len(chunk)
    return size


def _export_columns(model: type[models.Model]) -> list[str]:
    excluded = set(getattr(model, "export_exclude", ()))
    return [
        f.attname
        for f in model._meta.concrete_fields
        if f.name not in excluded and not isinstance(f, models.BinaryField)
    ]


def _csv_rows(model, brand_id: int, columns: list[str], counter: dict) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = SpreadsheetWriter(buffer)
    writer.writerow(columns)
    rows = rows_of(model, brand_id).order_by("pk").values_list(*columns).iterator(chunk_size=CHUNK)
    for row in rows:
        writer.writerow(row)
        counter["rows"] += 1
        if buffer.tell() > 256 * 1024:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _is_upload(name: str) -> bool:
    """Uploaded images (photos, logos) go into the export; print files and earlier exports do not."""
    return not name.startswith(("print-jobs/", f"{EXPORT_FOLDER}/"))


def _stored_bytes(name: str) -> Iterator[bytes]:
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        return
    with handle:
        while block := handle.read(1 << 20):
            yield block


def delete_due_brands(*, now=None) -> list[int]:
    """The beat task's work: delete every brand whose grace period is over and whose export exists."""
    now = now or timezone.now()
    due = list(
        BrandDeletion.objects.filter(delete_after__lte=now, exported_at__isnull=False).values_list(
            "brand_id", flat=True
        )
    )
    for brand_id in due:
        delete_brand(brand_id)
    return due


def delete_brand(brand_id: int) -> dict[str, int]:
    """Delete every file and row the brand owns; safe to run again after a crash (it resumes)."""
    counts: dict[str, int] = {}
    ordered = brand_owned_models()
    for model in ordered:  # files first: a crash leaves rows pointing at nothing, never files without rows
        names = list(stored_names(model, brand_id))
        for name in names:
            default_storage.delete(name)
        if names:
            counts[f"files:{model._meta.label}"] = len(names)
    # The deletion request goes last, with the brand itself: while any row is left it says the brand is being
    # deleted, so a worker killed half-way leaves the brand to the next run, not half-deleted for good.
    last = (BrandDeletion, Brand)
    for model in [m for m in ordered if m not in last]:
        counts[model._meta.label] = _delete_rows(model, brand_id, ordered)
    with transaction.atomic():
        for model in last:
            counts[model._meta.label] = _delete_rows(model, brand_id, ordered)
    log.info("brand deleted", extra={"brand": brand_id, "rows": sum(v for k, v in counts.items() if ":" not in k)})
    return counts


def _delete_rows(model: type[models.Model], brand_id: int, owned: Iterable[type[models.Model]]) -> int:
    manager = model._base_manager
    using = router.db_for_write(model)
    # A nullable reference to the same table (an assignment that replaced another) is cleared first, so
    # chunks can go in any order without breaking the database's FK check at each commit.
    for field in _foreign_keys(model):
        if field.related_model is model and field.null:
            rows_of(model, brand_id).exclude(**{f"{field.attname}__isnull": True}).update(**{field.attname: None})
    # Only brand-owned models point at it (and they went first): a plain DELETE is exact. Anything else
    # pointing at it gets Django's on_delete handling.
    raw = all(rel.related_model in owned for rel in model._meta.related_objects)
    total = 0
    while ids := list(rows_of(model, brand_id).values_list("pk", flat=True)[:CHUNK]):
        with transaction.atomic(using=using):
            rows = manager.filter(pk__in=ids)
            if raw:
                total += rows._raw_delete(using)
            else:
                total += rows.delete()[0]
    return total
