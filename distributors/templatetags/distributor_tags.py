"""The batch page's distributor panel: the batch page belongs to `codes`, which cannot read this app, so its
template pulls the panel in (`{% load distributor_tags %}{% ranges_panel %}`)."""

from django import template

from distributors import queries, services
from distributors.forms import AssignRangeForm, CartonAssignForm, MoveRangeForm, PackCartonsForm
from distributors.models import Carton

register = template.Library()


@register.inclusion_tag("distributors/ranges_panel.html", takes_context=True)
def ranges_panel(context, **forms):
    batch, actor = context["batch"], context["actor"]
    context = {
        "batch": batch,
        "actor": actor,
        "assignments": queries.with_receipt(services.current_assignments(batch)).order_by("first_position"),
        "free": services.free_ranges(batch),
        "cartons": queries.with_holder(queries.with_receipt(Carton.objects.for_actor(actor).filter(batch=batch)))[:200],
        "carton_count": Carton.objects.for_actor(actor).filter(batch=batch).count(),
        "csrf_token": context.get("csrf_token"),
        "can_activate": actor.can("codes.activate"),
    }
    if actor.can("assignments.manage"):
        prefix = (batch.product.gtin or "")[1:8]  # a product ref has no GS1 prefix to suggest
        context.update(
            assign_form=forms.get("assign_form") or AssignRangeForm(brand=actor.brand, initial=_first_free(context)),
            move_form=forms.get("move_form") or MoveRangeForm(brand=actor.brand),
            pack_form=forms.get("pack_form") or PackCartonsForm(initial={"company_prefix": prefix, "extension": 0}),
            carton_form=CartonAssignForm(brand=actor.brand),
        )
    return context


def _first_free(context) -> dict:
    free = context["free"]
    return {"first_position": free[0][0], "last_position": free[0][1]} if free else {}
