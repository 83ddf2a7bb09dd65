"""Operators read distributors' data here; ranges and cartons change only through the services (the pages, the
assign_range command), which keep history and refuse overlaps, so they are read-only in the admin."""

from django.contrib import admin

from .models import Assignment, Carton, Distributor


@admin.register(Distributor)
class DistributorAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "brand", "territory"]
    list_filter = ["brand"]
    search_fields = ["name", "code"]


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
