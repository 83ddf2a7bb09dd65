"""Operators read distributors' data here; ranges and cartons change only through the services (the pages, the
assign_range command), which keep history and refuse overlaps, so they are read-only in the admin."""

from django.contrib import admin

from core.admin import ServiceAdmin

from . import services
from .models import Assignment, Carton, Distributor

CONTACT_FIELDS = ("contact_name", "contact_email", "phone")


@admin.register(Distributor)
class DistributorAdmin(ServiceAdmin):
    """Saved through the distributor use cases: a code unique in the brand, a territory of ISO 3166 codes."""

    list_display = ["name", "code", "brand", "territory"]
    list_filter = ["brand"]
    search_fields = ["name", "code"]

    def get_readonly_fields(self, request, obj=None):
        return ["brand"] if obj else []

    def save_model(self, request, obj, form, change):
        values = {name: getattr(obj, name) for name in ("name", "code", "territory", *CONTACT_FIELDS)}
        if change:
            services.update_distributor(obj, **values)
        else:
            obj.pk = services.create_distributor(brand=obj.brand, **values).pk


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ["batch", "first_position", "last_position", "distributor", "assigned_at", "ended_at"]
    list_filter = ["distributor__brand"]
    list_select_related = ["distributor", "batch"]


@admin.register(Carton)
class CartonAdmin(ReadOnlyAdmin):
    list_display = ["sscc", "batch", "first_position", "last_position", "received_at"]
    search_fields = ["sscc"]
    list_select_related = ["batch"]
