"""The public registration page, reached from the verify page of a live unit by a signed link; and "My
registration", where an owner gets a link by e-mail to see, export, withdraw and delete what they registered."""

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from core.forms import add_service_error
from core.throttle import over_limit
from scans import follow_up, rules, wording
from scans.forms import CounterfeitReportForm
from scans.views import allow_client, too_many

from . import services
from . import wording as consent_wording
from .forms import LinkRequestForm, RegistrationForm
from .models import ErasedBy
from .sealing import Contact, normalise_email


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


@sensitive_post_parameters("name", "email", "phone")  # an error report never carries an owner's contact
@require_http_methods(["GET", "POST"])
def register(request, token: str):
    if not allow_client(request, "register", settings.OWNER_REGISTRATION_RATE_LIMIT):
        return too_many(request)
    unit = follow_up.unit_of_register_token(token[:200])
    code = services.registrable_unit(unit[0]) if unit else None
    if unit is None or code is None:
        message = _("This registration link has expired or is not valid. Scan the product's code again.")
        return _no_store(render(request, "scans/unavailable.html", {"message": message}, status=404))
    brand = code.product.brand
    consents = consent_wording.consent_texts(brand.name)
    form = RegistrationForm(request.POST or None, consents=consents)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            outcome = services.register_unit(
                code=code,
                scan_id=unit[1],
                contact=Contact(name=data["name"], email=data["email"], phone=data["phone"]),
                consents=form.consents(),
                purchase_place=data["purchase_place"],
                purchased_on=data["purchased_on"],
                language=get_language() or "",
            )
        except services.RegistrationError as exc:
            add_service_error(form, exc)
        else:
            return _no_store(render(request, "owners/registered.html", _outcome_page(outcome, brand, code, unit[1])))
    page = {
        "form": form,
        "brand": brand,
        "product": code.product,
        "serial": code.serial,
        "withdrawal": consent_wording.withdrawal_text(brand.name),
    }
    return _no_store(render(request, "owners/register.html", page, status=400 if form.errors else 200))


register.public = True  # anyone holding the unit's signed link


def _outcome_page(outcome: services.Outcome, brand, code, scan_id: int) -> dict:
    registration = outcome.registration
    page: dict = {"brand": brand, "outcome": outcome}
    if outcome.second:
        page["warning"] = wording.word(rules.already_registered_warning(registration.registered_at))
        # Where the copy was bought is what the brand needs next: the verify page's own report form.
        initial = {"gtin": code.product.gtin, "serial": code.serial, "token": follow_up.report_token(scan_id)}
        page["report_form"] = CounterfeitReportForm(initial=initial)
    else:
        page["warranty_ends_on"] = registration.warranty_ends_on()
        page["product"] = registration.code.product
    return page


@sensitive_post_parameters("email")
@require_http_methods(["GET", "POST"])
def my_registration_request(request):
    """The same answer whether or not the address registered anything: the link goes only to the address."""
    if request.method == "POST" and not allow_client(request, "my_registration", settings.OWNER_LINK_RATE_LIMIT):
        return too_many(request)
    form = LinkRequestForm(request.POST or None)
    sent = False
    if request.method == "POST" and form.is_valid():
        email = normalise_email(form.cleaned_data["email"])
        # Per address too, silently (the same answer): nobody floods an owner's inbox from many networks.
        if not over_limit(request, group="owner-link-address", key=email, rate=settings.OWNER_LINK_ADDRESS_RATE_LIMIT):
            services.request_link(email=email, language=get_language() or "")
        sent = True
    page = {"form": form, "sent": sent, "minutes": services.LINK_MAX_AGE // 60}
    return _no_store(render(request, "owners/my_request.html", page, status=400 if form.errors else 200))


my_registration_request.public = True


def _registrations_or_404(token: str):
    registrations = services.registrations_of_token(token[:4000])
    if registrations is None:
        raise Http404("This link has expired or is not valid.")
    return registrations


@require_http_methods(["GET", "POST"])
def my_registration(request, token: str):
    registrations = _registrations_or_404(token)
    if request.method == "POST":
        chosen = next((r for r in registrations if str(r.pk) == request.POST.get("registration")), None)
        if chosen is None:
            raise Http404("No such registration of yours.")
        if request.POST.get("action") == "erase" and request.POST.get("confirm") == "yes":
            services.erase_registration(registration=chosen, by=ErasedBy.OWNER)
        elif request.POST.get("action") == "withdraw":
            try:
                services.withdraw_consent(
                    registration=chosen, purpose=request.POST.get("purpose", ""), language=get_language() or ""
                )
            except services.RegistrationError as exc:
                page = {"message": exc.message}
                return _no_store(render(request, "scans/unavailable.html", page, status=400))
        return redirect("my_registration", token)
    page = {
        "registrations": [
            {
                "registration": registration,
                "serial_end": registration.code.serial[-4:],
                "warranty_ends_on": registration.warranty_ends_on(),
                "consents": registration.current_consents(),
            }
            for registration in registrations
        ],
        "token": token,
    }
    return _no_store(render(request, "owners/mine.html", page))


my_registration.public = True  # whoever holds the link mailed to the address


@require_http_methods(["GET"])
def my_registration_export(request, token: str):
    registrations = _registrations_or_404(token)
    data = {"registrations": [services.export_registration(registration) for registration in registrations]}
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = 'attachment; filename="my-registrations.json"'
    return _no_store(response)


my_registration_export.public = True
