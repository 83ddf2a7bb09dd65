"""The brand's alert inbox, an alert's page with its scans' timeline, the workflow, detection settings."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from brands.access import get_for_actor, require
from scans import alerts, detection
from scans.forms import AlertMoveForm, DetectionSettingsForm
from scans.models import Alert, AlertEvent, AlertKind, AlertStatus, DetectionSettings


@require("brand.view")
def alert_list(request):
    status = request.GET.get("status", "") if request.GET.get("status") in AlertStatus.values else ""
    kind = request.GET.get("kind", "") if request.GET.get("kind") in AlertKind.values else ""
    rows, by_status, open_by_kind = alerts.inbox(request.brand, status=status, kind=kind)
    context = {
        "alerts": rows,
        "status": status,
        "kind": kind,
        "statuses": [(value, label, by_status.get(value, 0)) for value, label in AlertStatus.choices],
        "kinds": [(value, label, open_by_kind.get(value, 0)) for value, label in AlertKind.choices],
    }
    return render(request, "scans/alert_list.html", context)


@require("brand.view")
def alert_detail(request, alert_id: int):
    alert = get_for_actor(request, Alert.objects.select_related("product", "distributor", "code"), pk=alert_id)
    context = {
        "alert": alert,
        "reasons": alerts.reasons(alert),
        "opened_in": alerts.opened_in(alert),
        "scans": alerts.page_timeline(alert),
        "events": AlertEvent.objects.filter(alert=alert).select_related("by"),
        "next_statuses": [(s, s.label) for s in AlertStatus if s in alerts.TRANSITIONS[alert.status]],
        "form": AlertMoveForm(),
    }
    return render(request, "scans/alert_detail.html", context)


@require_POST
@require("alerts.manage")
def alert_move(request, alert_id: int):
    alert = get_for_actor(request, Alert, pk=alert_id)
    form = AlertMoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a status.")
        return redirect("alert_detail", alert.pk)
    try:
        data = form.cleaned_data
        alerts.move_alert(alert=alert, to_status=data["status"], by=request.user, note=data["note"])
    except alerts.AlertError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Alert is now {alert.get_status_display().lower()}.")
    return redirect("alert_detail", alert.pk)


@require("detection.manage")
def detection_settings(request):
    current = DetectionSettings.objects.for_brand(request.brand).first() or DetectionSettings(brand=request.brand)
    form = DetectionSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        form.save()
        detection.thresholds_cache.clear()  # this process at once; the others within seconds
        messages.success(request, "Detection settings saved.")
        return redirect("detection_settings")
    return render(request, "form_page.html", {"form": form, "title": "Detection settings"})
