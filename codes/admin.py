from django.contrib import admin

from core.admin import ServiceAdmin

from . import services
from .models import Code, CodeBatch, Lot, PrintDownload, PrintFile, PrintJob, Product, StatusChange


@admin.register(Product)
class ProductAdmin(ServiceAdmin):
    """Saved through the product use cases: the GTIN rules, the frozen serial format, never the counter."""

    list_display = ["name", "variant", "gtin", "ref", "brand", "serial_alphabet", "serial_length", "next_ordinal"]
    list_filter = ["brand"]
    search_fields = ["name", "gtin", "ref"]
    readonly_fields = ["next_ordinal", "key", "ref"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "brand"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in services.EDITABLE_PRODUCT_FIELDS if name in form.fields}
        if change:
            changed = {name: value for name, value in values.items() if name in form.changed_data}
            saved = services.update_product(product=obj, changes=changed)
        else:
            saved = services.create_product(brand=form.cleaned_data["brand"], **values)
        obj.pk, obj.next_ordinal, obj.ref, obj.key_id = saved.pk, saved.next_ordinal, saved.ref, saved.key_id


@admin.register(Lot)
class LotAdmin(ServiceAdmin):
    """New lots through the ordering rules (a lot number and expiry that labels can carry)."""

    list_display = ["number", "product", "expires_on"]
    search_fields = ["number"]
    raw_id_fields = ["product"]

    def get_readonly_fields(self, request, obj=None):
        return ["product", "number"] if obj else []  # printed codes carry them

    def save_model(self, request, obj, form, change):
        if change:
            if "expires_on" in form.changed_data:
                services.clean_lot(number=obj.number, expires_on=obj.expires_on)
            obj.save()
        else:
            lot = services.get_or_create_lot(
                product=obj.product, number=obj.number, expires_on=obj.expires_on, manufactured_on=obj.manufactured_on
            )
            obj.pk = lot.pk


@admin.register(CodeBatch)
class CodeBatchAdmin(admin.ModelAdmin):
    list_display = ["pk", "product", "lot", "quantity", "state", "codes_done", "created_at"]
    list_filter = ["state"]
    readonly_fields = ["first_ordinal", "codes_done"]


@admin.register(Code)
class CodeAdmin(admin.ModelAdmin):
    list_display = ["serial", "product", "batch", "status", "scan_count", "first_scanned_at"]
    list_filter = ["status"]
    search_fields = ["=serial"]
    raw_id_fields = ["product", "batch"]
    # A unit's state changes only through a status change (codes.recalls): the pack-state rules and the audit.
    readonly_fields = ["status", "status_changed_at", "status_change", "previous_status"]
    show_full_result_count = False  # counting millions of codes on every page view is wasteful


class PrintFileInline(admin.TabularInline):
    model = PrintFile
    extra = 0
    fields = ["part", "first_position", "last_position", "state", "size", "sha256", "finished_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(PrintJob)
class PrintJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "batch", "format", "first_position", "last_position", "state", "codes_done", "created_at"]
    list_filter = ["state", "format"]
    raw_id_fields = ["batch", "requested_by"]
    readonly_fields = ["codes_done", "started_at", "finished_at"]
    inlines = [PrintFileInline]


@admin.register(PrintDownload)
class PrintDownloadAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "job", "file", "first_byte", "last_byte", "status"]
    raw_id_fields = ["job", "file", "user"]
    list_select_related = ["user", "file"]


@admin.register(StatusChange)
class StatusChangeAdmin(admin.ModelAdmin):
    """Read-only: status changes are made through codes.recalls (set-based, audited), never edited here."""

    list_display = ["pk", "brand", "to_status", "scope", "quantity", "codes_changed", "state", "created_at"]
    list_filter = ["to_status", "state"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
