"""The public side of e-mail notifications: the address's owner confirms or leaves (the signed token in the link
is the capability). The brand's notification settings live in the back office (`backoffice.views.notifications`)."""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import services


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
