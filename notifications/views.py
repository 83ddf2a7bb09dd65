"""Where a brand's events go: webhook endpoints (with their delivery log and a test button) and e-mail."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from brands.access import get_for_actor, require
from core.forms import add_service_error

from . import services
from .forms import EmailSubscriptionForm, WebhookForm
from .models import EmailSubscription, Webhook, WebhookAttempt, WebhookDelivery


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
    get_for_actor(request, Webhook, pk=webhook_id).delete()
    messages.success(request, "Endpoint deleted.")
    return redirect("notification_settings")


# --- Public: the address's owner confirms or leaves (the signed token in the link is the capability) ----------


@require_http_methods(["GET", "POST"])
def subscription_confirm(request, token: str):
    subscription = services.subscription_of(token, services.CONFIRM)
    if subscription is None:
        raise Http404("This link is not valid any more.")
    if request.method == "POST":  # a click, not a mail scanner's GET: that would subscribe anyone
        services.confirm_subscription(subscription)
    subscription.refresh_from_db()
    return render(request, "notifications/subscription_confirm.html", {"subscription": subscription})


subscription_confirm.public = True


@csrf_exempt  # RFC 8058 one-click: the mail client POSTs "List-Unsubscribe=One-Click" without a form of ours
@require_http_methods(["GET", "POST"])
def subscription_unsubscribe(request, token: str):
    subscription = services.subscription_of(token, services.UNSUBSCRIBE)
    if request.method == "POST":
        if subscription is not None:
            subscription.delete()
        return render(request, "notifications/subscription_left.html")
    if subscription is None:
        return render(request, "notifications/subscription_left.html")  # already gone: say so, reveal nothing
    return render(request, "notifications/subscription_unsubscribe.html", {"subscription": subscription})


subscription_unsubscribe.public = True
