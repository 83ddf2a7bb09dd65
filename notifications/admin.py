from django.contrib import admin

from .models import EmailSubscription, Webhook, WebhookAttempt, WebhookDelivery


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["url", "brand", "is_active", "consecutive_failures", "created_at"]
    list_filter = ["is_active"]
    exclude = ["secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "webhook", "state", "attempts", "created_at"]
    list_filter = ["state", "event"]


admin.site.register(WebhookAttempt)
admin.site.register(EmailSubscription)
