from django.urls import path

from backoffice.views import notifications as views

urlpatterns = [
    path("settings/notifications/", views.notification_settings, name="notification_settings"),
    path("settings/notifications/email/", views.email_subscribe, name="email_subscribe"),
    path(
        "settings/notifications/email/<int:subscription_id>/remove/",
        views.email_unsubscribe,
        name="email_unsubscribe",
    ),
    path("settings/webhooks/<int:webhook_id>/", views.webhook_detail, name="webhook_detail"),
    path("settings/webhooks/<int:webhook_id>/test/", views.webhook_test, name="webhook_test"),
    path("settings/webhooks/<int:webhook_id>/enable/", views.webhook_enable, name="webhook_enable"),
    path("settings/webhooks/<int:webhook_id>/delete/", views.webhook_delete, name="webhook_delete"),
    path("settings/webhooks/<int:webhook_id>/rotate/", views.webhook_rotate_secret, name="webhook_rotate_secret"),
]
