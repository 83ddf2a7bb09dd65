"""Recalls and other status changes on the dashboard: they change codes (the codes app does that) and
report on scans (the scans app reads them)."""

from django.contrib import messages
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from brands.access import get_for_actor, require
from codes import recalls
from codes.models import CodeStatus, StatusChange
from core.forms import add_service_error
from owners import recall_messages
from scans import recall_report
from scans.forms import StatusChangeForm


@require("brand.view")
def recall_list(request):
    changes = StatusChange.objects.for_brand(request.brand).select_related("product", "lot", "created_by")[:200]
    return render(request, "scans/recall_list.html", {"changes": changes})


@require("brand.view", write="recalls.create")
def recall_create(request):
    return _change_form(request, recall=True)


@require("brand.view", write="statuses.change")
def status_change_create(request):
    return _change_form(request, recall=False)


def _change_form(request, *, recall: bool):
    form = StatusChangeForm(request.POST or None, brand=request.brand, recall=recall)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            change = recalls.plan_change(
                brand=request.brand,
                to_status=data["to_status"],
                reason=data["reason"],
                consumer_message=data["consumer_message"],
                consumer_messages=form.consumer_messages(),
                created_by=request.user,
                **form.scope_arguments(),
            )
        except recalls.ChangeError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"{change.get_to_status_display()}: {change.quantity:,} codes queued.")
            return redirect("recall_detail", change.pk)
    title = "New recall" if recall else "Change the status of units"
    return render(request, "scans/recall_form.html", {"form": form, "title": title})


@require("brand.view")
def recall_detail(request, recall_id: int):
    change = get_for_actor(request, StatusChange.objects.select_related("product", "lot", "created_by"), pk=recall_id)
    context = {
        "change": change,
        "report": recall_report.summary(change),
        "owner_messages": recall_messages.report(change) if change.is_recall else None,
        "recalled": CodeStatus.RECALLED,
        "translated_messages": [(recalls.language_name(c), text) for c, text in change.consumer_messages.items()],
    }
    return render(request, "scans/recall_detail.html", context)


@require("brand.view")
def recall_progress(request, recall_id: int):
    change = get_for_actor(request, StatusChange, pk=recall_id)
    return JsonResponse(change.progress(codes_changed=change.codes_changed))


@require("brand.view")
def recall_report_csv(request, recall_id: int):
    change = get_for_actor(request, StatusChange, pk=recall_id)
    response = StreamingHttpResponse(recall_report.csv_rows(change), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="recall-{change.pk}-scans-after.csv"'
    return response


@require_POST
@require("statuses.change")
def recall_resume(request, recall_id: int):
    change = get_for_actor(request, StatusChange, pk=recall_id)
    if recalls.resume_change(change):
        messages.success(request, "Resumed: a worker carries on from the last units it saved.")
    else:
        messages.info(request, "Nothing to resume: it is done, or a worker is on it.")
    return redirect("recall_detail", change.pk)


@require_POST
@require("statuses.change")
def recall_undo(request, recall_id: int):
    change = get_for_actor(request, StatusChange, pk=recall_id)
    try:
        undone = recalls.undo_change(change=change, by=request.user)
    except recalls.ChangeError as exc:
        messages.error(request, exc.message)
    else:
        if undone:
            messages.success(request, f"{undone:,} units are back in their previous state.")
        else:  # every unit has moved on since (a later change, a final state): the undo is recorded, nothing moved
            messages.error(request, "Nothing was restored: no unit is still in the state this change left it in.")
    return redirect("recall_detail", change.pk)
