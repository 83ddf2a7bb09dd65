"""TOTP two-factor sign-in (django-otp): owners and admins of a brand that requires it (operators too when it
says so) and platform staff confirm a code from an authenticator app once per session; the first time, they
enrol an app by scanning a QR code. Each enrolling session gets its own secret, kept in the session until a
code confirms it: nobody else who knows the password can read the secret of the app that gets enrolled."""

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.forms import add_service_error

from . import services
from .access import ENROLMENT_SESSION_KEY, is_verified, second_factor_required
from .forms import PasswordConfirmationForm, TokenForm


@login_required
def two_factor(request):
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if device is None:
        return _enrol(request)
    request.session.pop(ENROLMENT_SESSION_KEY, None)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # verify_token throttles repeated failures itself (django-otp's ThrottlingMixin).
        if device.verify_token(form.cleaned_data["token"].strip()):
            otp_login(request, device)
            return redirect(_next(request))
        form.add_error("token", "That code is not right (or came too late); try the current one.")
    return render(request, "registration/two_factor.html", {"form": form, "next": _next(request)})


def _enrol(request):
    may_stop = not second_factor_required(request)
    if request.method == "POST" and "stop" in request.POST and may_stop:
        request.session.pop(ENROLMENT_SESSION_KEY, None)  # an app nobody asked for: not now
        return redirect(_next(request))
    secret = request.session.get(ENROLMENT_SESSION_KEY) or services.new_second_factor_secret()
    request.session[ENROLMENT_SESSION_KEY] = secret
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.enrol_second_factor(user=request.user, secret=secret, token=form.cleaned_data["token"])
        except services.ServiceError as exc:
            add_service_error(form, exc)
            if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
                return redirect(request.get_full_path())  # another session enrolled: confirm with its app
        else:
            del request.session[ENROLMENT_SESSION_KEY]
            otp_login(request, device)
            return redirect(_next(request))
    config_url = services.totp_device_for(user=request.user, secret=secret).config_url
    context = {
        "form": form,
        "enrolling": True,
        "may_stop": may_stop,
        "next": _next(request),
        "qr_svg": segno.make(config_url, error="m").svg_inline(scale=4),
        "secret": config_url.split("secret=")[1].split("&")[0],
    }
    return render(request, "registration/two_factor.html", context)


@login_required
def two_factor_remove(request):
    """Remove one's own authenticator app, from a verified session, after typing the password."""
    if not is_verified(request):
        return redirect("two_factor")
    form = PasswordConfirmationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.remove_second_factor(user=request.user)
        messages.success(request, "Your authenticator app was removed.")
        return redirect("dashboard")
    return render(request, "registration/two_factor_remove.html", {"form": form})


def _next(request) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return wanted if safe and wanted else "/dashboard/"
