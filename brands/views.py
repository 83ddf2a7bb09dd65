"""The brand's public pages: the front door, sign-up, password reset, invitations, and the logo and colour the
verify page shows. Signed-in pages live in the back office (`backoffice.views.brands`)."""

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import PasswordResetView
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render

from core.throttle import client_of, over_limit

from . import services
from .access import SESSION_KEY
from .forms import ChoosePasswordForm, InvitedSignupForm, SignupForm
from .models import Brand, Invitation, normalise_email


def landing(request):
    """The product's front door for anonymous visitors: what it does, sign up, log in. People signed in go on
    to their dashboard."""
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "brands/landing.html")


landing.public = True


def signup(request):
    """Step one: an address and a brand name; the same answer whether or not the address has an account."""
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if over_limit(request, group="signup", key=client_of(request), rate=settings.SIGNUP_RATE_LIMIT):
            return render(request, "registration/throttled.html", status=429)
        if form.is_valid():
            email = form.cleaned_data["email"]
            if not over_limit(request, group="signup-address", key=email, rate=settings.SIGNUP_RATE_LIMIT):
                services.start_signup(
                    email=email, brand_name=form.cleaned_data["brand_name"], link_base=request.build_absolute_uri("/")
                )
            return render(request, "brands/signup_sent.html", {"email": email})
    return render(request, "brands/signup.html", {"form": form})


signup.public = True


def signup_finish(request, token: str):
    """Step two, from the e-mailed link: choose a password; the account and its workspace are created."""
    data = services.read_signup(token)
    if data is None:
        raise Http404("This sign-up link is not valid any more.")
    form = ChoosePasswordForm(request.POST or None, email=data["email"])
    if request.method == "POST" and form.is_valid():
        try:
            brand = services.finish_signup(
                email=data["email"], brand_name=data["brand"], password=form.cleaned_data["password1"]
            )
        except services.ServiceError as exc:
            messages.error(request, exc.message)
            return redirect("login")
        login(request, brand.memberships.get().user, backend="django.contrib.auth.backends.ModelBackend")
        request.session[SESSION_KEY] = brand.pk
        messages.success(request, f"Welcome to Serialize. {brand.name} is ready.")
        return redirect("dashboard")
    return render(request, "brands/signup_finish.html", {"form": form, "email": data["email"], "brand": data["brand"]})


signup_finish.public = True  # the argument is a signed capability, not a row id


class ThrottledPasswordResetView(PasswordResetView):
    """Per client and per address: 20 requests no longer send 20 mails. The page that follows is the same
    whether a mail went out or not, and whether the address has an account; so is the time it takes (an
    address without an account is mailed that it has none, as sign-up does)."""

    def post(self, request, *args, **kwargs):
        if over_limit(request, group="reset", key=client_of(request), rate=settings.PASSWORD_RESET_RATE_LIMIT):
            return render(request, "registration/throttled.html", status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        email = normalise_email(form.cleaned_data["email"])
        if over_limit(self.request, group="reset-address", key=email, rate=settings.PASSWORD_RESET_ADDRESS_RATE_LIMIT):
            return redirect(self.get_success_url())
        if not any(form.get_users(email)):  # equal work either way: an unknown address is mailed too
            services.mail_reset_without_account(email=email, link_base=self.request.build_absolute_uri("/"))
        return super().form_valid(form)


_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def invitation_accept(request, token: str):
    """Logged in: accept with one click. Anonymous: create an account for the invited address, or log in."""
    invitation = (
        Invitation.objects.filter(token=token).select_related("brand").first() if _TOKEN.fullmatch(token) else None
    )
    if invitation is None or not invitation.is_usable:
        raise Http404("This invitation link is not valid any more.")
    form = None
    if not request.user.is_authenticated:
        form = InvitedSignupForm(request.POST or None, initial={"email": invitation.email})
        if request.method != "POST" or not form.is_valid():
            return render(request, "brands/invitation_accept.html", {"invitation": invitation, "form": form})
        form.instance.email = invitation.email
        login(request, form.save(), backend="django.contrib.auth.backends.ModelBackend")
    elif request.method != "POST":
        return render(request, "brands/invitation_accept.html", {"invitation": invitation})
    try:
        membership = services.accept_invitation(token=token, user=request.user)
    except services.InvitationError as exc:
        messages.error(request, exc.message)
        return redirect("dashboard")
    request.session[SESSION_KEY] = membership.brand_id
    messages.success(request, f"You joined {membership.brand}.")
    return redirect("dashboard")


def brand_logo(request, slug: str):
    """The logo the public verify page shows: public by design, cacheable, from whatever storage holds it."""
    brand = Brand.objects.filter(slug=slug).exclude(logo="").first()
    if brand is None:
        raise Http404("No logo")
    response = FileResponse(brand.logo.open("rb"))
    response["Cache-Control"] = "public, max-age=3600"
    return response


brand_logo.public = True


_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


def brand_theme(request, slug: str):
    """The verify page's brand colour as a stylesheet (no inline style, so a strict CSP can forbid them)."""
    colour = Brand.objects.filter(slug=slug).values_list("colour", flat=True).first()
    if colour is None:
        raise Http404("No such brand")
    colour = colour if _COLOUR.fullmatch(colour) else "#1f6feb"
    response = HttpResponse(f":root {{ --brand: {colour}; }}\n", content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response


brand_theme.public = True
