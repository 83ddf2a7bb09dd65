from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from core.admin import ServiceAdmin

from . import services
from .access import Actor
from .models import Brand, BrandKey, Invitation, Membership, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff"]
    search_fields = ["email"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Personal info", {"fields": ["first_name", "last_name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


class MembershipInline(admin.TabularInline):
    """Listed here, changed on the membership pages: those go through the members rules."""

    model = Membership
    extra = 0
    readonly_fields = ["user", "role", "distributor"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Brand)
class BrandAdmin(ServiceAdmin):
    """Changes go through brands.services.update_brand: its rules (names, colour, plan), the verify page's
    cache in every worker, and the look-alike check of a new name."""

    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change):
        if change:
            services.update_brand(brand=obj, changes={name: form.cleaned_data[name] for name in form.changed_data})
        else:
            services.check_brand_fields(form.cleaned_data)
            super().save_model(request, obj, form, change)
            services.flag_lookalike(obj)


@admin.register(Membership)
class MembershipAdmin(ServiceAdmin):
    """Saved through the members use cases, with the operator acting as an owner of the brand: never a brand
    left without an owner, never one's own membership, a distributor's role only with its distributor."""

    list_display = ["user", "brand", "role"]
    list_filter = ["role"]
    raw_id_fields = ["user", "brand", "distributor"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "brand", "distributor"] if obj else []

    def save_model(self, request, obj, form, change):
        by = Actor.operator(request.user, obj.brand)
        if change:
            services.change_member_role(membership=obj, role=obj.role, by=by)
        else:
            obj.pk = services.add_member(by=by, user=obj.user, role=obj.role, distributor=obj.distributor).pk

    def delete_model(self, request, obj):
        services.remove_member(membership=obj, by=Actor.operator(request.user, obj.brand))


@admin.register(Invitation)
class InvitationAdmin(ServiceAdmin):
    """Sent through the invitation use case (its mail, its role rules); an invitation is revoked, never edited."""

    list_display = ["email", "brand", "role", "created_at", "accepted_at"]
    fields = ["brand", "email", "role", "distributor"]
    raw_id_fields = ["brand", "distributor"]

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        invitation = services.invite_member(
            by=Actor.operator(request.user, obj.brand),
            email=obj.email,
            role=obj.role,
            distributor=obj.distributor,
            accept_url_base=request.build_absolute_uri("/"),
        )
        obj.pk = invitation.pk


@admin.register(BrandKey)
class BrandKeyAdmin(admin.ModelAdmin):
    """Key rows are listed, never shown: the sealed bytes stay out of the admin."""

    list_display = ["pk", "brand", "created_at"]
    exclude = ["sealed"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
