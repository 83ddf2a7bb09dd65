"""Rewards: a brand's programme (points for a unit's first registration, capped a day per person and per device)
and its owners' balances as CSV. Admins and owners (`brand.settings`); the e-mail in the CSV only for members
who may read contacts (`owners.view`), the others get the person's blind index, shortened."""

from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render

from brands.access import require
from brands.spreadsheet import csv_lines
from owners import services
from owners.forms import RewardProgrammeForm
from owners.models import PointsAward, RewardProgramme


@require("brand.settings", write="brand.settings")
def reward_programme(request):
    current = RewardProgramme.objects.for_brand(request.brand).first() or RewardProgramme(brand=request.brand)
    form = RewardProgrammeForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Reward programme saved.")
        return redirect("reward_programme")
    totals = PointsAward.objects.for_brand(request.brand).aggregate(
        total=Sum("points"), paid=Count("pk", filter=Q(points__gt=0)), refused=Count("pk", filter=Q(points=0))
    )
    return render(request, "owners/rewards.html", {"form": form, "totals": totals})


@require("brand.settings")
def reward_balances_csv(request):
    rows = services.balance_rows(brand=request.brand, with_email=request.actor.can("owners.view"))
    response = StreamingHttpResponse(csv_lines(services.BALANCE_HEADER, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{request.brand.slug}-reward-balances.csv"'
    response["Cache-Control"] = "no-store"  # personal data: no copy in a shared cache
    return response
