from django.contrib import admin

from .models import Alert, CounterfeitReport, DetectionSettings, Scan


@admin.register(Scan)
class ScanAdmin(admin.ModelAdmin):
    list_display = ["scanned_at", "gtin", "serial", "outcome", "place", "source", "brand"]
    list_filter = ["outcome", "source", "country_code"]
    search_fields = ["=serial", "=gtin"]
    raw_id_fields = ["code", "brand", "product"]
    show_full_result_count = False


@admin.register(CounterfeitReport)
class CounterfeitReportAdmin(admin.ModelAdmin):
    list_display = ["created_at", "brand", "gtin", "serial", "where_bought"]
    list_filter = ["brand"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["pk", "brand", "kind", "severity", "status", "count", "gtin", "serial", "last_seen_at"]
    list_filter = ["kind", "status", "severity"]
    search_fields = ["=serial", "=gtin"]
    raw_id_fields = ["code", "product", "distributor", "brand"]
    readonly_fields = ["status", "closed_by", "status_changed_by"]  # the workflow goes through scans.alerts


admin.site.register(DetectionSettings)
