from django.contrib import admin
from django.db import models

from core.admin import ServiceAdmin

from . import services
from .models import EmailSubscription, Webhook, WebhookAttempt, WebhookDelivery


@admin.register(Webhook)
class WebhookAdmin(ServiceAdmin):
    """An endpoint's URL and events pass the service's checks (public targets only) here too."""

    list_display = ["url", "brand", "is_active", "consecutive_failures", "created_at"]
    list_filter = ["is_active"]
    exclude = ["secret"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # as the settings page reads URLs

    def save_model(self, request, obj, form, change):
        if not change or {"url", "events"} & set(form.changed_data):
            services.check_webhook(url=obj.url, events=obj.events)
        super().save_model(request, obj, form, change)


@admin.register(EmailSubscription)
class EmailSubscriptionAdmin(ServiceAdmin):
    """Added through the service: the address's owner confirms before any mail is sent (never confirmed here)."""

    list_display = ["email", "brand", "frequency", "confirmed_at"]
    raw_id_fields = ["brand"]

    def get_readonly_fields(self, request, obj=None):
        return ["brand", "email", "confirmed_at"] if obj else ["confirmed_at"]

    def save_model(self, request, obj, form, change):
        if change:
            services.check_events(obj.events, error=services.SubscriptionError)
            super().save_model(request, obj, form, change)
            return
        obj.pk = services.subscribe(
            brand=obj.brand,
            email=obj.email,
            events=obj.events,
            frequency=obj.frequency,
            language=obj.language,
            added_by=request.user,
        ).pk


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "webhook", "state", "attempts", "created_at"]
    list_filter = ["state", "event"]


admin.site.register(WebhookAttempt)
