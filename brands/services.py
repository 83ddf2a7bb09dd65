"""Brand use cases: sign-up, keys, invitations."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from . import keyring
from .models import Brand, BrandKey, Invitation, Membership, Role, User


class InvitationError(Exception):
    pass


@transaction.atomic
def create_brand(*, name: str, owner: User, slug: str | None = None) -> Brand:
    """A new workspace with its owner and its first serial key."""
    brand = Brand.objects.create(name=name, slug=slug or Brand.unique_slug(name))
    Membership.objects.create(user=owner, brand=brand, role=Role.OWNER)
    add_brand_key(brand=brand)
    return brand


def add_brand_key(*, brand: Brand) -> BrandKey:
    """A fresh random key, sealed; new products use the newest key, old ones keep theirs."""
    master = keyring.parse_master_key(settings.MASTER_KEY)
    sealed = keyring.seal(master, keyring.new_brand_key(), BrandKey.associated_data(brand.pk))
    return BrandKey.objects.create(brand=brand, sealed=sealed)


def current_key(brand: Brand) -> BrandKey:
    key = BrandKey.objects.for_brand(brand).order_by("-pk").first()
    return key or add_brand_key(brand=brand)


@transaction.atomic
def invite_member(
    *, brand: Brand, email: str, role: str, invited_by: User, accept_url_base: str, distributor=None
) -> Invitation:
    """Invite someone by e-mail; a distributor's people come with their distributor (role `distributor`)."""
    if (role == Role.DISTRIBUTOR) != (distributor is not None) or (distributor and distributor.brand_id != brand.pk):
        raise InvitationError("A distributor login needs a distributor of this brand, and only it.")
    invitation = Invitation.objects.create(
        brand=brand, email=email.lower(), role=role, invited_by=invited_by, distributor=distributor
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
        raise InvitationError("This invitation link is not valid any more.")
    if invitation.email != user.email.lower():
        raise InvitationError("This invitation was sent to another e-mail address.")
    membership, _ = Membership.objects.get_or_create(
        user=user, brand=invitation.brand, defaults={"role": invitation.role, "distributor": invitation.distributor}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return membership


class AccountError(Exception):
    pass


@transaction.atomic
def delete_account(*, user: User) -> None:
    """Delete a person's account: memberships and invitations to their address go with it; logs that named
    them keep the event without the person (SET_NULL). Refused while a brand would be left without an owner."""
    owned = Membership.objects.filter(user=user, role=Role.OWNER).values("brand_id")
    others = Membership.objects.filter(brand_id__in=owned, role=Role.OWNER).exclude(user=user).values("brand_id")
    orphaned = Brand.objects.filter(pk__in=owned).exclude(pk__in=others).order_by("name")
    if orphaned.exists():
        names = ", ".join(b.name for b in orphaned)
        raise AccountError(f"You are the only owner of {names}: make another member owner, or delete the brand first.")
    Invitation.objects.filter(email__iexact=user.email).delete()
    user.delete()
