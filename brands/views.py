import re
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordResetView
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.forms import add_service_error

from . import offboarding, services
from .access import (
    ROLE_PERMISSIONS,
    SESSION_KEY,
    TWO_FACTOR_PERMISSION,
    get_for_actor,
    is_verified,
    require,
    second_factor_url,
)
from .files import presigned_url
from .forms import (
    BrandDeletionForm,
    BrandForm,
    ChoosePasswordForm,
    InvitationForm,
    InvitedSignupForm,
    PasswordConfirmationForm,
    PrefixClaimForm,
    ProfileForm,
    RegistrationClaimForm,
    ReviewForm,
    SignupForm,
)
from .models import Brand, BrandDeletion, ClaimState, Invitation, Membership, PrefixClaim, normalise_email
from .throttle import client_of, over_limit


def landing(request):
    """The product's front door for anonymous visitors: what it does, sign up, log in. People signed in go on
    to their dashboard."""
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "brands/landing.html")


landing.public = True


@login_required
def profile(request):
    """A person's own account: name, e-mail, password change, two-factor state, deletion."""
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Profile saved.")
        return redirect("profile")
    memberships = list(Membership.objects.filter(user=request.user).select_related("brand").order_by("brand__name"))
    context = {
        "form": form,
        "memberships": memberships,
        "two_factor": TOTPDevice.objects.filter(user=request.user, confirmed=True).exists(),
        "two_factor_required": any(
            m.brand.require_two_factor and TWO_FACTOR_PERMISSION in ROLE_PERMISSIONS.get(m.role, ())
            for m in memberships
        ),
    }
    return render(request, "brands/profile.html", context)


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


@login_required
def brand_create(request):
    form = BrandForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        brand = services.create_brand(name=form.cleaned_data["name"], owner=request.user)
        request.session[SESSION_KEY] = brand.pk
        return redirect("dashboard")
    return render(request, "brands/brand_create.html", {"form": form})


@require_POST
@login_required
def brand_switch(request):
    brand_id = request.POST.get("brand", "")
    membership = Membership.objects.filter(user=request.user, brand_id=brand_id).first() if brand_id.isdigit() else None
    if membership is None:
        raise Http404("No such brand")
    request.session[SESSION_KEY] = membership.brand_id
    return redirect("dashboard")


@require("brand.settings")
def brand_settings(request):
    form = BrandForm(request.POST or None, request.FILES or None, instance=request.brand)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_brand(
                brand=request.brand, changes={name: form.cleaned_data[name] for name in form.changed_data}
            )
        except services.ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Brand settings saved.")
            return redirect("brand_settings")
    return render(request, "brands/settings.html", _settings_page(request, form))


def _settings_page(request, form, claim_form=None, registration_form=None) -> dict:
    claims = PrefixClaim.objects.for_brand(request.brand)
    return {
        "form": form,
        "claim_form": claim_form or PrefixClaimForm(),
        "registration_form": registration_form or RegistrationClaimForm(),
        "claims": claims,
        "members": Membership.objects.for_brand(request.brand).select_related("user").order_by("pk"),
        "invitations": pending_invitations(request.brand),
    }


def pending_invitations(brand):
    """Invitations sent and not yet accepted, still usable."""
    fresh = timezone.now() - Invitation.VALID_FOR
    return Invitation.objects.for_brand(brand).filter(accepted_at=None, created_at__gt=fresh).order_by("-created_at")


@require_POST
@require("brand.settings")
def prefix_claim(request):
    """A brand claims a GS1 Company Prefix, with evidence for the operators who review it."""
    form = PrefixClaimForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.claim_prefix(
                brand=request.brand,
                prefix=form.cleaned_data["prefix"],
                evidence=form.cleaned_data["evidence"],
                submitted_by=request.user,
            )
        except services.ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Prefix claimed. You can register its GTINs now; an operator will review it.")
            return redirect("brand_settings")
    page = _settings_page(request, BrandForm(instance=request.brand), claim_form=form)
    return render(request, "brands/settings.html", page, status=400)


@require_POST
@require("brand.settings")
def registration_claim(request):
    """A brand without a GS1 prefix asks to be verified on its company registration, with its certificate."""
    form = RegistrationClaimForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.claim_registration(
                brand=request.brand,
                registration_number=data["registration_number"],
                country=data["country"],
                evidence=data["evidence"],
                submitted_by=request.user,
            )
        except services.ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                "Registration submitted. Add your products without a GTIN now; an operator will review it.",
            )
            return redirect("brand_settings")
    page = _settings_page(request, BrandForm(instance=request.brand), registration_form=form)
    return render(request, "brands/settings.html", page, status=400)


@require("brand.settings")
def prefix_evidence(request, claim_id: int):
    claim = get_for_actor(request, PrefixClaim.objects.exclude(evidence=""), pk=claim_id)
    return _private_file(claim)


def _private_file(claim):
    """Evidence for the brand's and the operators' eyes only: a short-lived S3 link, or streamed."""
    name = "registration-evidence" if claim.is_registration else f"prefix-{claim.prefix}-evidence"
    url = presigned_url(
        claim.evidence.storage, claim.evidence.name, filename=name, content_type="application/octet-stream"
    )
    response = redirect(url) if url else FileResponse(claim.evidence.open("rb"), as_attachment=True, filename=name)
    response["Cache-Control"] = "private, no-store"
    return response


def staff_only(view):
    """Platform operators' pages: for everyone else they do not exist (404, as for another brand's rows)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_authenticated and request.user.is_staff):
            raise Http404("No such page")
        if not is_verified(request):  # a password alone never approves a claim
            return redirect(second_factor_url(request.get_full_path()))
        return view(request, *args, **kwargs)

    wrapper.staff_only = True
    return wrapper


@staff_only
def review_list(request):
    claims = PrefixClaim.objects.select_related("brand", "brand__lookalike_of", "submitted_by")
    pending = claims.filter(state=ClaimState.PENDING).order_by("created_at")
    lookalikes = Brand.objects.filter(lookalike_of__isnull=False).select_related("lookalike_of")[:100]
    recent = claims.exclude(state=ClaimState.PENDING).order_by("-reviewed_at")[:50]
    return render(request, "brands/review_list.html", {"pending": pending, "recent": recent, "lookalikes": lookalikes})


@staff_only
def review_claim(request, claim_id: int):
    claim = get_object_or_404(PrefixClaim.objects.select_related("brand", "brand__lookalike_of"), pk=claim_id)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        decide = services.approve_claim if form.cleaned_data["decision"] == "approve" else services.reject_claim
        try:
            decide(claim=claim, reviewed_by=request.user, note=form.cleaned_data["note"])
        except services.ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"{claim.claimed} for {claim.brand}: {form.cleaned_data['decision']}d.")
            return redirect("review_list")
    same = (
        {"registration_number": claim.registration_number, "registration_country": claim.registration_country}
        if claim.is_registration
        else {"prefix": claim.prefix}
    )
    others = PrefixClaim.objects.filter(kind=claim.kind, **same).exclude(pk=claim.pk).select_related("brand")
    return render(request, "brands/review_claim.html", {"claim": claim, "form": form, "others": others})


@staff_only
def review_evidence(request, claim_id: int):
    claim = get_object_or_404(PrefixClaim.objects.exclude(evidence=""), pk=claim_id)
    return _private_file(claim)


@require("brand.view", write="members.manage")
def members(request):
    form = InvitationForm(request.POST or None, may_make_owners=request.actor.can("members.make_owner"))
    if request.method == "POST" and form.is_valid():
        try:
            services.invite_member(
                by=request.actor,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                accept_url_base=request.build_absolute_uri("/"),
            )
        except services.InvitationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            return redirect("members")
    memberships = Membership.objects.for_brand(request.brand).select_related("user").order_by("pk")
    context = {"form": form, "memberships": memberships, "invitations": pending_invitations(request.brand)}
    return render(request, "brands/members.html", context)


@require_POST
@require("members.manage")
def membership_remove(request, membership_id: int):
    membership = get_for_actor(request, Membership, pk=membership_id)
    try:
        services.remove_member(membership=membership, by=request.actor)
    except services.MembershipError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{membership.user} no longer has access.")
    return redirect("members")


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


@require("brand.offboard")
def brand_delete(request):
    """Owners only: ask for the brand's deletion (export first, grace period), or cancel it."""
    deletion = BrandDeletion.objects.filter(brand=request.brand).first()
    form = BrandDeletionForm(request.POST or None, user=request.user)
    if request.method == "POST" and request.POST.get("action") == "cancel":
        offboarding.cancel_deletion(brand=request.brand)
        messages.success(request, "The deletion is cancelled; nothing was deleted.")
        return redirect("brand_delete")
    if request.method == "POST" and deletion is None and form.is_valid():
        try:
            offboarding.request_deletion(
                brand=request.brand, requested_by=request.user, confirm_slug=form.cleaned_data["confirm_slug"]
            )
        except offboarding.OffboardingError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Deletion scheduled. The export is being prepared.")
            return redirect("brand_delete")
    return render(request, "brands/brand_delete.html", {"form": form, "deletion": deletion})


@require("brand.offboard")
def brand_export_download(request):
    deletion = BrandDeletion.objects.filter(brand=request.brand, exported_at__isnull=False).first()
    if deletion is None:
        raise Http404("No export yet.")
    filename = f"{request.brand.slug}-export.zip"
    url = presigned_url(default_storage, deletion.export_name, filename=filename, content_type="application/zip")
    if url:
        return redirect(url)
    response = FileResponse(default_storage.open(deletion.export_name, "rb"), as_attachment=True, filename=filename)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def account_delete(request):
    """A person deletes their own account (their right under PDPA/GDPR), after typing their password."""
    form = PasswordConfirmationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.delete_account(user=request.user)
        except services.AccountError as exc:
            add_service_error(form, exc)
        else:
            logout(request)
            return render(request, "brands/account_deleted.html")
    return render(request, "brands/account_delete.html", {"form": form})


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
