"""Brand use cases: sign-up, keys, invitations, GS1 prefix claims."""

import re
import unicodedata

from django.apps import apps
from django.conf import settings
from django.contrib.auth import password_validation
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from rapidfuzz import fuzz
from unidecode import unidecode

from core.errors import ServiceError

from . import keyring, plans, prefixes
from .access import Actor
from .models import (
    Brand,
    BrandKey,
    ClaimKind,
    ClaimState,
    Invitation,
    Membership,
    PrefixClaim,
    Role,
    User,
    normalise_email,
)


class InvitationError(ServiceError):
    """An invitation that cannot be made or accepted."""


def clean_name(name: str, *, field: str = "name") -> str:
    """Names travel into e-mail subjects and file names: line breaks and other control characters break them."""
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise ServiceError(field, "Use letters, digits and punctuation only (no line breaks or tabs).")
    return name


_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


@transaction.atomic
def create_brand(*, name: str, owner: User, slug: str | None = None) -> Brand:
    """A new workspace with its owner and its first serial key."""
    name = clean_name(name)
    brand = Brand.objects.create(name=name, slug=slug or Brand.unique_slug(name))
    Membership.objects.create(user=owner, brand=brand, role=Role.OWNER)
    add_brand_key(brand=brand)
    flag_lookalike(brand)
    return brand


def check_brand_fields(values: dict) -> None:
    """A brand's name, verify-page colour and plan as the rules allow them (the fields given, others unchecked)."""
    if "name" in values:
        clean_name(values["name"])
    if "colour" in values and not _COLOUR.fullmatch(values["colour"] or ""):
        raise ServiceError("colour", "Colour must look like #1f6feb.")
    if values.get("gln") and not prefixes.is_gln(values["gln"]):
        raise ServiceError("gln", prefixes.GLN_RULE)
    if "plan" in values and values["plan"] not in plans.PLANS:
        raise ServiceError("plan", f"Choose one of the plans: {', '.join(plans.PLANS)}.")


@transaction.atomic
def update_brand(*, brand: Brand, changes: dict) -> Brand:
    """Change a brand's fields (`changes`: field name -> new value; the settings page offers the branding and
    sign-in choices, operators in the admin the plan and slug too). The verify page shows the new branding in
    every worker, and a new name is checked against the approved brands' names."""
    locked = Brand.objects.select_for_update().get(pk=brand.pk)
    check_brand_fields(changes)
    renamed = "name" in changes and changes["name"] != locked.name
    for name, value in changes.items():
        Brand._meta.get_field(name).save_form_data(locked, value)
    locked.save(update_fields=list(changes) or None)
    note_verify_change(brand_id=locked.pk)  # every worker's verify shows the new branding
    if renamed:
        flag_lookalike(locked)
    return locked


def add_brand_key(*, brand: Brand) -> BrandKey:
    """A fresh random key, sealed; new products use the newest key, old ones keep theirs."""
    master = keyring.parse_master_key(settings.MASTER_KEY)
    sealed = keyring.seal(master, keyring.new_brand_key(), BrandKey.associated_data(brand.pk))
    return BrandKey.objects.create(brand=brand, sealed=sealed)


def current_key(brand: Brand) -> BrandKey:
    key = BrandKey.objects.for_brand(brand).order_by("-pk").first()
    return key or add_brand_key(brand=brand)


class MembershipError(ServiceError):
    """A change to a brand's people that the acting person may not make."""


def _check_role(*, by: Actor, role: str, distributor, error=MembershipError) -> None:
    """A role given by `by`: a known one, an owner's only by an owner, a distributor's with its distributor."""
    if role not in Role.values:
        raise error("role", f"Choose one of: {', '.join(Role.values)}.")
    if (role == Role.DISTRIBUTOR) != (distributor is not None) or (distributor and distributor.brand_id != by.brand.pk):
        raise error("distributor", "A distributor login needs a distributor of this brand, and only it.")
    if role == Role.OWNER and not by.can("members.make_owner"):
        raise error("role", "Only an owner can make an owner.")


def _check_member_change(membership: Membership, by: Actor, verb: str) -> None:
    """Of the actor's own brand; owners only by owners; never oneself; never the brand's last owner."""
    if membership.brand_id != by.brand.pk:
        raise MembershipError("user", "No such member.")
    if membership.role == Role.OWNER and not by.can("members.make_owner"):
        raise MembershipError("role", f"Only an owner can {verb} an owner.")
    if membership.user_id == by.user.pk:
        raise MembershipError("user", f"You cannot {verb} yourself.")
    others = Membership.objects.filter(brand_id=membership.brand_id, role=Role.OWNER).exclude(pk=membership.pk)
    if membership.role == Role.OWNER and not others.exists():
        raise MembershipError("role", f"{by.brand} would be left without an owner.")


@transaction.atomic
def add_member(*, by: Actor, user: User, role: str, distributor=None) -> Membership:
    """Give a person with an account a role in the actor's brand directly (operators, in the admin)."""
    _check_role(by=by, role=role, distributor=distributor)
    if Membership.objects.filter(brand=by.brand, user=user).exists():
        raise MembershipError("user", f"{user} is a member of {by.brand} already.")
    return Membership.objects.create(brand=by.brand, user=user, role=role, distributor=distributor)


@transaction.atomic
def change_member_role(*, membership: Membership, role: str, by: Actor) -> Membership:
    """Give a member another role."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if role == membership.role:
        return membership
    _check_member_change(membership, by, "change")
    _check_role(by=by, role=role, distributor=membership.distributor)
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def remove_member(*, membership: Membership, by: Actor) -> None:
    """Take a person's access to the actor's brand away."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    _check_member_change(membership, by, "remove")
    membership.delete()


@transaction.atomic
def invite_member(*, by: Actor, email: str, role: str, accept_url_base: str, distributor=None) -> Invitation:
    """Invite someone by e-mail to the actor's brand; a distributor's people come with their distributor (role
    `distributor`)."""
    _check_role(by=by, role=role, distributor=distributor, error=InvitationError)
    brand, invited_by = by.brand, by.user
    invitation = Invitation.objects.create(
        brand=brand, email=normalise_email(email), role=role, invited_by=invited_by, distributor=distributor
    )
    link = accept_url_base.rstrip("/") + reverse("invitation_accept", args=[invitation.token])
    # Sent once the invitation is saved: no mail for a row that was rolled back, no network call inside it.
    transaction.on_commit(
        lambda: send_mail(
            subject=f"You are invited to {brand.name} on Serialize",
            message=f"{invited_by} invited you to join {brand.name} as {invitation.get_role_display()}.\n\n{link}\n",
            from_email=None,
            recipient_list=[invitation.email],
        )
    )
    return invitation


@transaction.atomic
def accept_invitation(*, token: str, user: User) -> Membership:
    invitation = Invitation.objects.select_for_update().filter(token=token).first()
    if invitation is None or not invitation.is_usable:
        raise InvitationError("token", "This invitation link is not valid any more.")
    if invitation.email != normalise_email(user.email):
        raise InvitationError("token", "This invitation was sent to another e-mail address.")
    membership, _ = Membership.objects.get_or_create(
        user=user, brand=invitation.brand, defaults={"role": invitation.role, "distributor": invitation.distributor}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return membership


class AccountError(ServiceError):
    """An account that cannot be deleted yet."""


@transaction.atomic
def delete_account(*, user: User) -> None:
    """Delete a person's account: memberships and invitations to their address go with it; logs that named
    them keep the event without the person (SET_NULL). Refused while a brand would be left without an owner."""
    owned = Membership.objects.filter(user=user, role=Role.OWNER).values("brand_id")
    others = Membership.objects.filter(brand_id__in=owned, role=Role.OWNER).exclude(user=user).values("brand_id")
    orphaned = Brand.objects.filter(pk__in=owned).exclude(pk__in=others).order_by("name")
    if orphaned.exists():
        names = ", ".join(b.name for b in orphaned)
        raise AccountError(
            "user", f"You are the only owner of {names}: make another member owner, or delete the brand first."
        )
    address = normalise_email(user.email)
    # Rows that name the person only by address (invitations, e-mail subscriptions of apps above this one)
    # declare it with `erased_with_account`: found here without importing those apps.
    for model in apps.get_models():
        for field in getattr(model, "erased_with_account", ()):
            model._default_manager.filter(**{f"{field}__iexact": address}).delete()
    user.delete()


def forget_logins(*, before) -> int:
    """Delete django-axes' records of log-ins and failed log-ins (client addresses, user agents) older than
    `before`; an active lock-out is younger than any retention worth setting."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    return sum(
        model.objects.filter(attempt_time__lt=before).delete()[0]
        for model in (AccessAttempt, AccessFailureLog, AccessLog)
    )


# --- GS1 Company Prefix claims: a brand is trusted on the verify page only under an approved prefix ---


def clean_prefix(prefix: str) -> str:
    """A GS1 Company Prefix as typed (spaces allowed), or refused naming `field`."""
    prefix = prefix.strip().replace(" ", "")
    if not prefixes.is_company_prefix(prefix):
        raise ServiceError("prefix", prefixes.RULE)
    return prefix


def _overlapping(prefix: str):
    """Claims whose prefix is this one, starts it or starts with it: they would share GTINs."""
    claims = PrefixClaim.objects.filter(kind=ClaimKind.GS1_PREFIX)
    return claims.filter(Q(prefix__in=prefixes.prefixes_under(prefix)) | Q(prefix__startswith=prefix))


@transaction.atomic
def claim_prefix(*, brand: Brand, prefix: str, evidence=None, submitted_by: User | None = None) -> PrefixClaim:
    """Claim a prefix for review; its GTINs can be registered (and printed for trials) at once."""
    prefix = clean_prefix(prefix)
    if _overlapping(prefix).filter(state=ClaimState.APPROVED).exclude(brand=brand).exists():
        raise ServiceError("prefix", "This prefix belongs to another verified brand.")
    if PrefixClaim.objects.for_brand(brand).filter(kind=ClaimKind.GS1_PREFIX, prefix=prefix).exists():
        raise ServiceError("prefix", "You have already claimed this prefix.")
    return PrefixClaim.objects.create(brand=brand, prefix=prefix, evidence=evidence or "", submitted_by=submitted_by)


@transaction.atomic
def approve_claim(*, claim: PrefixClaim, reviewed_by: User | None = None, note: str = "") -> PrefixClaim:
    """An operator vouches that the brand owns the prefix (or is the registered company); its codes (under that
    prefix, or under its product refs) then verify as authentic."""
    claim = PrefixClaim.objects.select_for_update().get(pk=claim.pk)
    if claim.is_registration:
        same = _same_registration(claim.registration_number, claim.registration_country)
        if same.filter(state=ClaimState.APPROVED).exclude(brand_id=claim.brand_id).exists():
            raise ServiceError("registration_number", f"{claim.claimed} is already approved for another brand.")
        return _review(claim, ClaimState.APPROVED, reviewed_by, note)
    others = _overlapping(claim.prefix).filter(state=ClaimState.APPROVED).exclude(brand_id=claim.brand_id)
    if others.exists():
        raise ServiceError("prefix", f"{claim.prefix} overlaps a prefix already approved for another brand.")
    return _review(claim, ClaimState.APPROVED, reviewed_by, note)


@transaction.atomic
def reject_claim(*, claim: PrefixClaim, reviewed_by: User | None = None, note: str = "") -> PrefixClaim:
    return _review(claim, ClaimState.REJECTED, reviewed_by, note)


def _review(claim: PrefixClaim, state: str, reviewed_by: User | None, note: str) -> PrefixClaim:
    claim.state, claim.reviewed_by, claim.reviewed_at, claim.note = state, reviewed_by, timezone.now(), note
    claim.save(update_fields=["state", "reviewed_by", "reviewed_at", "note"])
    note_verify_change(brand_id=claim.brand_id)
    return claim


def note_verify_change(*, brand_id: int) -> None:
    """What the verify page says of this brand changed (approval, branding): every worker's cached copy is
    stale from now on. In the caller's transaction, so no worker sees the new generation before the change."""
    Brand.objects.filter(pk=brand_id).update(verify_generation=F("verify_generation") + 1)


@transaction.atomic
def approve_brand_prefix(*, brand: Brand, prefix: str, reviewed_by: User | None = None) -> PrefixClaim:
    """Claim and approve in one step (the operator's shell command)."""
    prefix = clean_prefix(prefix)
    claim = PrefixClaim.objects.for_brand(brand).filter(kind=ClaimKind.GS1_PREFIX, prefix=prefix).first()
    claim = claim or claim_prefix(brand=brand, prefix=prefix, submitted_by=reviewed_by)
    return approve_claim(claim=claim, reviewed_by=reviewed_by, note="Approved by an operator.")


def claim_covering(brand: Brand, gtin: str, *, approved_only: bool = False) -> PrefixClaim | None:
    """The brand's claim (pending or approved; approved only if asked) under which a GTIN-14 lies."""
    states = [ClaimState.APPROVED] if approved_only else [ClaimState.APPROVED, ClaimState.PENDING]
    claims = PrefixClaim.objects.for_brand(brand).filter(kind=ClaimKind.GS1_PREFIX, state__in=states)
    return next((c for c in claims if c.covers(gtin)), None)


def approved_claim_of(gtin: str) -> PrefixClaim | None:
    """The approved GS1 prefix claim, of whichever brand, under which a GTIN-14 lies (at most one: an approval
    is refused where it would overlap another brand's)."""
    candidates = prefixes.prefixes_of(gtin)
    approved = PrefixClaim.objects.filter(kind=ClaimKind.GS1_PREFIX, state=ClaimState.APPROVED, prefix__in=candidates)
    return next((claim for claim in approved if claim.covers(gtin)), None)


def approved_prefix_claim(brand: Brand, company_prefix: str) -> PrefixClaim | None:
    """The brand's approved GS1 prefix claim that a company prefix is (or lies under): what SSCCs are made under."""
    claims = PrefixClaim.objects.for_brand(brand).filter(kind=ClaimKind.GS1_PREFIX, state=ClaimState.APPROVED)
    return claims.filter(prefix__in=prefixes.prefixes_under(company_prefix)).first()


def is_verified_for(brand: Brand, gtin: str) -> bool:
    """Does the platform vouch for this brand's codes of this GTIN (an approved claim covers it)?"""
    return claim_covering(brand, gtin, approved_only=True) is not None


NOT_CLAIMED = "not_claimed"


def verification_state(brand: Brand) -> str:
    """How far the brand is on its way to being vouched for: "not_claimed", "pending" (awaiting approval),
    "approved" or "rejected" (its best claim counts: one approved claim makes the brand approved)."""
    return best_claim_state(PrefixClaim.objects.for_brand(brand).values_list("state", flat=True))


def best_claim_state(states) -> str:
    states = set(states)
    best = (ClaimState.APPROVED, ClaimState.PENDING, ClaimState.REJECTED)
    return next((str(state) for state in best if state in states), NOT_CLAIMED)


def verification_states() -> dict[int, str]:
    """brand id -> verification state, for every brand with a claim, in one query (operators' lists)."""
    by_brand: dict[int, set[str]] = {}
    for brand_id, state in PrefixClaim.objects.values_list("brand_id", "state").distinct():
        by_brand.setdefault(brand_id, set()).add(state)
    return {brand_id: best_claim_state(states) for brand_id, states in by_brand.items()}


def unverified_notice(brand: Brand, gtin: str | None = None) -> str | None:
    """None when the brand's codes (of this GTIN) answer as its own on the verify page; otherwise the brand's
    verification state, for the banner that says consumers are told "not yet verified brand"."""
    if gtin is not None and is_verified_for(brand, gtin):
        return None
    state = verification_state(brand)
    if gtin is None and state == ClaimState.APPROVED:
        return None
    return state


# --- Company registration: the way in for brands without a GS1 Company Prefix ---
# Approved, it vouches for the brand's products under Serialize product refs only: never for a GTIN, which only
# its prefix's owner may claim.

_COUNTRY = re.compile(r"[A-Z]{2}")
_REGISTRATION_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./()-]{0,39}")


def clean_registration(number: str, country: str) -> tuple[str, str]:
    number, country = " ".join(number.split()), country.strip().upper()
    if not _COUNTRY.fullmatch(country):
        raise ServiceError("country", "Give the country as its two-letter ISO code, e.g. MY.")
    if not _REGISTRATION_NUMBER.fullmatch(number):
        raise ServiceError(
            "registration_number", "A registration number has 1 to 40 letters, digits, spaces and . / ( ) -."
        )
    return number, country


@transaction.atomic
def claim_registration(
    *, brand: Brand, registration_number: str, country: str, evidence=None, submitted_by: User | None = None
) -> PrefixClaim:
    """A brand without a GS1 prefix asks to be verified on its company registration (with the certificate as
    evidence); its products under Serialize product refs verify as authentic once an operator approves it."""
    number, country = clean_registration(registration_number, country)
    if _same_registration(number, country).filter(state=ClaimState.APPROVED).exclude(brand=brand).exists():
        raise ServiceError("registration_number", "This company registration belongs to another verified brand.")
    mine = PrefixClaim.objects.for_brand(brand).filter(kind=ClaimKind.COMPANY_REGISTRATION)
    if mine.filter(registration_number=number, registration_country=country).exists():
        raise ServiceError("registration_number", "You have already submitted this registration.")
    return PrefixClaim.objects.create(
        brand=brand,
        kind=ClaimKind.COMPANY_REGISTRATION,
        registration_number=number,
        registration_country=country,
        evidence=evidence or "",
        submitted_by=submitted_by,
    )


@transaction.atomic
def approve_brand_registration(
    *, brand: Brand, registration_number: str, country: str, reviewed_by: User | None = None
) -> PrefixClaim:
    """Submit and approve a company registration in one step (the operator's shell command)."""
    number, country = clean_registration(registration_number, country)
    mine = PrefixClaim.objects.for_brand(brand).filter(kind=ClaimKind.COMPANY_REGISTRATION)
    claim = mine.filter(registration_number=number, registration_country=country).first()
    claim = claim or claim_registration(
        brand=brand, registration_number=number, country=country, submitted_by=reviewed_by
    )
    return approve_claim(claim=claim, reviewed_by=reviewed_by, note="Approved by an operator.")


def _same_registration(number: str, country: str):
    """Claims of one company registration, whoever made them (spacing and case aside)."""
    claims = PrefixClaim.objects.filter(kind=ClaimKind.COMPANY_REGISTRATION, registration_country=country)
    return claims.filter(registration_number__iexact=number)


def is_registration_verified(brand: Brand) -> bool:
    """Does the platform vouch for this brand's products under product refs (an approved registration)?"""
    return (
        PrefixClaim.objects.for_brand(brand)
        .filter(kind=ClaimKind.COMPANY_REGISTRATION, state=ClaimState.APPROVED)
        .exists()
    )


# --- Look-alike names: "Alpha Co" next to an approved "Alpha Company" is flagged for review ---

LOOKALIKE_SCORE = 88
_LEGAL_WORDS = {"co", "company", "corp", "corporation", "inc", "ltd", "limited", "llc", "gmbh", "sdn", "bhd", "plc"}


def name_key(name: str) -> str:
    """A brand name reduced to what a shopper reads: ASCII, lower case, no legal suffixes or punctuation."""
    words = re.findall(r"[a-z0-9]+", unidecode(name).lower().replace("0", "o").replace("1", "l"))
    return "".join(w for w in words if w not in _LEGAL_WORDS)


def lookalike_of(brand: Brand) -> Brand | None:
    """The approved brand whose name this brand's name imitates, if any."""
    key = name_key(brand.name)
    if not key:
        return None
    approved = Brand.objects.filter(prefix_claims__state=ClaimState.APPROVED).exclude(pk=brand.pk).distinct()
    for other in approved.only("pk", "name"):
        if fuzz.ratio(key, name_key(other.name)) >= LOOKALIKE_SCORE:
            return other
    return None


def flag_lookalike(brand: Brand) -> Brand | None:
    """Record (or clear) the look-alike flag after a brand is created or renamed."""
    original = lookalike_of(brand)
    Brand.objects.filter(pk=brand.pk).update(lookalike_of=original)
    brand.lookalike_of = original
    return original


# --- Sign-up by e-mail link: the page answers the same whether or not the address has an account ---

SIGNUP_SALT = "brands.signup"


def start_signup(*, email: str, brand_name: str, link_base: str) -> None:
    """Mail a link that finishes sign-up, or, for an address that has an account, a note saying so (with
    the log-in and reset links): the page that follows is the same, so it tells nobody who has an account."""
    email = normalise_email(email)
    base = link_base.rstrip("/")
    if User.objects.filter(email=email).exists():
        subject = "You already have a Serialize account"
        body = (
            "Someone (you, we hope) tried to sign up with this address, which already has an account.\n\n"
            f"Log in: {base}{reverse('login')}\nForgot your password? {base}{reverse('password_reset')}\n"
        )
    else:
        token = signing.dumps({"email": email, "brand": brand_name}, salt=SIGNUP_SALT)
        subject = f"Finish creating {brand_name} on Serialize"
        body = f"Choose your password to create your workspace:\n\n{base}{reverse('signup_finish', args=[token])}\n"
    send_mail(subject=subject, message=body, from_email=None, recipient_list=[email])


def mail_reset_without_account(*, email: str, link_base: str) -> None:
    """A reset asked for an address with no account gets a mail too: the same work as a reset mail (a sent
    message, not a skipped one), so the page's timing does not tell who has an account; and the person who
    asked learns why no link came."""
    base = link_base.rstrip("/")
    body = (
        "Someone (you, we hope) asked to reset the Serialize password of this address, which has no account.\n\n"
        f"Create one: {base}{reverse('signup')}\nIf it was not you, ignore this mail.\n"
    )
    send_mail(subject="No Serialize account for this address", message=body, from_email=None, recipient_list=[email])


def read_signup(token: str) -> dict | None:
    try:
        data = signing.loads(token, salt=SIGNUP_SALT, max_age=settings.SIGNUP_LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    return data if isinstance(data, dict) and {"email", "brand"} <= data.keys() else None


@transaction.atomic
def finish_signup(*, email: str, brand_name: str, password: str) -> Brand:
    """The address is proven (the link reached its mailbox): create the account and its workspace."""
    if User.objects.filter(email=normalise_email(email)).exists():
        raise ServiceError("email", "This address already has an account: log in instead.")
    try:
        password_validation.validate_password(password, User(email=email))
    except ValidationError as exc:
        raise ServiceError("password", " ".join(exc.messages)) from exc
    user = User.objects.create_user(email, password)
    return create_brand(name=brand_name, owner=user)


# --- Second factor (TOTP, django-otp): one confirmed authenticator app per person ---


def new_second_factor_secret() -> str:
    """A fresh TOTP secret (hex) for one enrolment attempt; it lives in that session only until confirmed."""
    from django_otp.util import random_hex

    return random_hex(20)


def totp_device_for(*, user: User, secret: str):
    """The unsaved device a secret stands for (its QR code, its codes)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice(user=user, key=secret, name="app", confirmed=True)


@transaction.atomic
def enrol_second_factor(*, user: User, secret: str, token: str):
    """Confirm an authenticator app by a code it shows: only now is a device row created, and unconfirmed
    leftovers go. Refused when the code is wrong or another app was confirmed meanwhile (that one counts)."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    User.objects.select_for_update().filter(pk=user.pk).first()  # two sessions confirming at once: one wins
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise ServiceError("token", "Another authenticator app was confirmed meanwhile: enter the code it shows.")
    device = totp_device_for(user=user, secret=secret)
    check = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if not (token.strip().isdigit() and check.verify(int(token.strip()), device.tolerance)):
        raise ServiceError("token", "That code is not right (or came too late); try the current one.")
    device.last_t = check.t()
    TOTPDevice.objects.filter(user=user).delete()
    device.save()
    _mail_account(user, "Two-factor sign-in turned on", "An authenticator app was confirmed for your account")
    return device


@transaction.atomic
def remove_second_factor(*, user: User) -> int:
    """Forget the person's authenticator apps (a lost phone); they are told by e-mail. Returns how many went."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    if removed:
        _mail_account(user, "Two-factor sign-in removed", "The authenticator app of your account was removed")
    return removed


def _mail_account(user: User, subject: str, what: str) -> None:
    """Tell the person about a change to how they sign in; if it was not them, they know to act."""
    body = (
        f"{what} on {timezone.now():%d %b %Y %H:%M} UTC.\n\n"
        "If this was not you, reset your password now and tell your brand's owner.\n"
    )
    transaction.on_commit(
        lambda: send_mail(subject=f"Serialize: {subject}", message=body, from_email=None, recipient_list=[user.email])
    )
