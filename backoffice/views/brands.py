"""The brand's settings, members, prefix claims and deletion; a person's own account; operators' claim review."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import logout
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from brands import offboarding, services
from brands.access import (
    ROLE_PERMISSIONS,
    SESSION_KEY,
    TWO_FACTOR_PERMISSION,
    get_for_actor,
    is_verified,
    require,
    second_factor_url,
    signed_in,
)
from brands.forms import (
    BrandDeletionForm,
    BrandForm,
    InvitationForm,
    PasswordConfirmationForm,
    PrefixClaimForm,
    ProfileForm,
    RegistrationClaimForm,
    ReviewForm,
)
from brands.models import Brand, BrandDeletion, ClaimState, Invitation, Membership, PrefixClaim
from core.files import presigned_url
from core.forms import add_service_error


@signed_in
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


@signed_in
def brand_create(request):
    form = BrandForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        brand = services.create_brand(name=form.cleaned_data["name"], owner=request.user)
        request.session[SESSION_KEY] = brand.pk
        return redirect("dashboard")
    return render(request, "brands/brand_create.html", {"form": form})


@require_POST
@signed_in
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


@signed_in
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
