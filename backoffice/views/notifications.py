"""Where a brand's events go: webhook endpoints (with their delivery log and a test button) and e-mail."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from brands.access import get_for_actor, require
from core.forms import add_service_error
from notifications import services
from notifications.forms import EmailSubscriptionForm, WebhookForm
from notifications.models import EmailSubscription, Webhook, WebhookAttempt, WebhookDelivery


@require("notifications.manage")
def notification_settings(request):
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            webhook = services.add_webhook(
                brand=request.brand, url=data["url"], description=data["description"], events=data["events"]
            )
        except services.WebhookError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Endpoint added. Its signing secret is shown below.")
            return redirect("webhook_detail", webhook.pk)
    context = {
        "form": form,
        "email_form": EmailSubscriptionForm(language=request.LANGUAGE_CODE),
        "webhooks": Webhook.objects.for_actor(request.actor),
        "subscriptions": EmailSubscription.objects.for_actor(request.actor),
    }
    return render(request, "notifications/settings.html", context)


@require_POST
@require("notifications.manage")
def email_subscribe(request):
    form = EmailSubscriptionForm(request.POST)
    if form.is_valid():
        data, email = form.cleaned_data, form.cleaned_data["email"].lower()
        try:
            subscription = services.subscribe(
                brand=request.brand,
                email=email,
                events=data["events"],
                frequency=data["frequency"],
                language=data["language"],
                added_by=request.user,
            )
        except services.SubscriptionError as exc:
            messages.error(request, exc.message)
        else:
            if subscription.confirmed_at:
                messages.success(request, f"{email} will get e-mail notifications.")
            else:
                messages.success(request, f"We e-mailed {email} a link: notifications start once its owner confirms.")
    else:
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
    return redirect("notification_settings")


@require_POST
@require("notifications.manage")
def email_unsubscribe(request, subscription_id: int):
    get_for_actor(request, EmailSubscription, pk=subscription_id).delete()
    return redirect("notification_settings")


@require("notifications.manage")
def webhook_detail(request, webhook_id: int):
    webhook = get_for_actor(request, Webhook, pk=webhook_id)
    deliveries = WebhookDelivery.objects.filter(webhook=webhook)[:50]
    attempts = WebhookAttempt.objects.filter(delivery__webhook=webhook).select_related("delivery")[:100]
    context = {"webhook": webhook, "deliveries": deliveries, "attempts": attempts}
    return render(request, "notifications/webhook_detail.html", context)


@require_POST
@require("notifications.manage")
def webhook_test(request, webhook_id: int):
    webhook = get_for_actor(request, Webhook, pk=webhook_id)
    try:
        services.send_test_event(webhook)
    except services.TestSendRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, "Test event queued; its attempt appears below within seconds.")
    return redirect("webhook_detail", webhook.pk)


@require_POST
@require("notifications.manage")
def webhook_enable(request, webhook_id: int):
    services.enable(get_for_actor(request, Webhook, pk=webhook_id))
    messages.success(request, "Endpoint enabled again.")
    return redirect("webhook_detail", webhook_id)


@require_POST
@require("notifications.manage")
def webhook_rotate_secret(request, webhook_id: int):
    webhook = services.rotate_secret(get_for_actor(request, Webhook, pk=webhook_id))
    messages.success(
        request,
        f"New signing secret below. Events are signed with the old one too until "
        f"{webhook.previous_secret_until:%d %b %Y %H:%M} UTC: switch your receiver before then.",
    )
    return redirect("webhook_detail", webhook_id)


@require_POST
@require("notifications.manage")
def webhook_delete(request, webhook_id: int):
    services.delete_webhook(webhook=get_for_actor(request, Webhook, pk=webhook_id))
    messages.success(request, "Endpoint deleted.")
    return redirect("notification_settings")
