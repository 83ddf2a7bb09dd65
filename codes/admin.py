from django.contrib import admin

from . import services
from .models import Code, CodeBatch, Lot, PrintDownload, PrintFile, PrintJob, Product, StatusChange


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "variant", "gtin", "ref", "brand", "serial_alphabet", "serial_length", "next_ordinal"]
    list_filter = ["brand"]
    search_fields = ["name", "gtin", "ref"]
    readonly_fields = ["next_ordinal", "key", "ref"]

    def save_model(self, request, obj, form, change):
        if change:
            services.update_product(obj, changed=form.changed_data)  # never writes the counter back
        else:
            super().save_model(request, obj, form, change)


@admin.register(Lot)
class LotAdmin(admin.ModelAdmin):
    list_display = ["number", "product", "expires_on"]
    search_fields = ["number"]


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
