from django.contrib import admin

from .models import Code, CodeBatch, Lot, Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "variant", "gtin", "brand", "serial_alphabet", "serial_length", "next_ordinal"]
    list_filter = ["brand"]
    search_fields = ["name", "gtin"]
    readonly_fields = ["next_ordinal", "key"]


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
    show_full_result_count = False  # counting millions of codes on every page view is wasteful
