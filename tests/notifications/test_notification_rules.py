"""Where a brand's events may go is the notifications service's rule: public endpoints only, known events, one
subscription per address, confirmed by its owner. The settings page and the Django admin both go through it."""

import pytest
from django.core import mail

from notifications import services
from notifications.models import EmailSubscription, Webhook
from tests.factories import UserFactory, verified_client


@pytest.fixture
def staff(db):
    return verified_client(UserFactory(is_staff=True, is_superuser=True))


def test_the_service_refuses_a_private_endpoint(brand, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(services.WebhookError) as refused:
        services.add_webhook(brand=brand, url="https://127.0.0.1/x")
    assert refused.value.field == "url" and not Webhook.objects.exists()


def test_the_service_refuses_an_unknown_event(brand, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    with pytest.raises(services.WebhookError) as refused:
        services.add_webhook(brand=brand, url="http://127.0.0.1/x", events=["code.eaten"])
    assert refused.value.field == "events"


def test_the_admin_cannot_point_a_webhook_inside_the_network(staff, brand, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    data = {"brand": brand.pk, "url": "https://127.0.0.1/x", "events": "[]", "description": "", "is_active": "on"}
    data |= {"consecutive_failures": "0", "previous_secret": ""}
    response = staff.post("/admin/notifications/webhook/add/", data, follow=True)
    assert "private or local" in response.content.decode() and not Webhook.objects.exists()


def test_the_service_refuses_a_second_subscription_of_an_address(brand):
    services.subscribe(brand=brand, email="alerts@example.com", added_by=None)
    with pytest.raises(services.SubscriptionError) as refused:
        services.subscribe(brand=brand, email="Alerts@Example.com", added_by=None)
    assert refused.value.field == "email" and EmailSubscription.objects.count() == 1


def test_the_admin_adds_a_subscription_that_its_owner_must_confirm(staff, brand):
    data = {"brand": brand.pk, "email": "alerts@example.com", "events": "[]", "frequency": "immediate"}
    response = staff.post("/admin/notifications/emailsubscription/add/", {**data, "language": "en"})
    subscription = EmailSubscription.objects.get()
    assert response.status_code == 302 and subscription.confirmed_at is None and len(mail.outbox) == 1
    again = {**data, "email": "Alerts@Example.com", "language": "en"}  # the same address, as another person types it
    response = staff.post("/admin/notifications/emailsubscription/add/", again, follow=True)
    assert "already gets notifications" in response.content.decode() and EmailSubscription.objects.count() == 1
