from django.contrib import admin

from .models import CounterfeitReport, Scan


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
