from .access import current_actor


def current_brand(request):
    actor = current_actor(request) if hasattr(request, "user") else None
    if actor is None:
        return {}
    others = actor.user.memberships.select_related("brand").exclude(pk=actor.membership.pk)
    return {"current_brand": actor.brand, "actor": actor, "other_memberships": others}
