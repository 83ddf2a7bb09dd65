"""The public registration page: reached from the verify page of a live unit by a signed link."""

from django.conf import settings
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from core.forms import add_service_error
from scans import follow_up, rules, wording
from scans.forms import CounterfeitReportForm
from scans.views import allow_client, too_many

from . import services
from . import wording as consent_wording
from .forms import RegistrationForm
from .sealing import Contact


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
