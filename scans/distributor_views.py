"""Distributor pages that show scans: the brand's list and page of each distributor, and the portal's home.
They live here, at the top of the app chain, since they read both distributors and the scan log."""

from django.shortcuts import render

from brands.access import get_for_actor, require
from brands.models import Invitation, Membership
from distributors import queries as distributor_queries
from distributors.forms import DistributorInviteForm, PortalPrintForm
from distributors.models import Assignment, Carton, Distributor

from . import queries


@require("brand.view")
def distributor_list(request):
    distributors = list(Distributor.objects.for_actor(request.actor))
    held = distributor_queries.units_held(request.brand)
    scans = queries.scans_by_distributor(request.brand)
    rows = [
        (d, held.get(d.pk, 0), scans.get(d.pk, {}).get("scans", 0), scans.get(d.pk, {}).get("outside", 0))
        for d in distributors
    ]
    return render(request, "distributors/distributor_list.html", {"rows": rows, "days": queries.STATS_DAYS})


@require("brand.view")
def distributor_detail(request, distributor_id: int):
    distributor = get_for_actor(request, Distributor, pk=distributor_id)
    context = {
        "distributor": distributor,
        "assignments": distributor_queries.with_receipt(Assignment.objects.for_actor(request.actor))
        .filter(distributor=distributor)
        .select_related("batch__product", "batch__lot", "assigned_by", "ended_by")
        .order_by("-assigned_at")[:200],
        "members": Membership.objects.for_actor(request.actor).filter(distributor=distributor).select_related("user"),
        "invitations": Invitation.objects.for_actor(request.actor).filter(distributor=distributor, accepted_at=None),
        "by_region": queries.distributor_scans_by_region_and_day(request.brand, distributor.pk),
        "outside": queries.out_of_territory_scans(request.brand, distributor.pk),
        "invite_form": DistributorInviteForm(),
        "days": queries.STATS_DAYS,
    }
    return render(request, "distributors/distributor_detail.html", context)


@require("portal.view")
def portal(request):
    actor = request.actor
    assignments = distributor_queries.with_receipt(
        Assignment.objects.for_actor(actor).select_related("batch__product", "batch__lot").order_by("-assigned_at")
    )
    context = {
        "distributor": Distributor.objects.for_actor(actor).get(),
        "current": [a for a in assignments if a.is_current],
        "past": [a for a in assignments[:200] if not a.is_current],
        "cartons": distributor_queries.with_receipt(Carton.objects.for_actor(actor).select_related("batch__product"))[
            :500
        ],
        "print_jobs": distributor_queries.portal_print_jobs(actor)
        .select_related("batch")
        .prefetch_related("files")[:50],
        "by_region": queries.distributor_scans_by_region_and_day(request.brand, actor.distributor_id),
        "print_form": PortalPrintForm(),
        "days": queries.STATS_DAYS,
    }
    return render(request, "distributors/portal.html", context)
