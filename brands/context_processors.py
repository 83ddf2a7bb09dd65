from .tenancy import current_membership


def current_brand(request):
    membership = current_membership(request) if hasattr(request, "user") else None
    if membership is None:
        return {}
    others = membership.user.memberships.select_related("brand").exclude(pk=membership.pk)
    return {"current_brand": membership.brand, "current_membership": membership, "other_memberships": others}
