"""Verdict warnings in words, in the request's language: the one place that turns warning codes into text.

Counts and dates are formatted as the templates format them (humanize's `intcomma`, the locale's
DATE_FORMAT; see serialize_saas/formats), places named as everywhere else (`region_label`)."""

from datetime import datetime

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from distributors.territory import region_name

from . import rules

PLACES_SHOWN = 3  # "Selangor, Johor, Pulau Pinang and 2 more"


def word(warning: rules.VerdictWarning) -> str:
    params = warning.params
    if warning.code == rules.LIKELY_COPY:
        return likely_copy(params)
    if warning.code == rules.PIN_REUSED:
        return _("This PIN was already used. If you have just scratched it yourself, this label may be a copy.")
    text = {
        rules.RECALLED: _("This product has been recalled. Do not use it; return it to the shop or contact the brand."),
        "withdrawn": _("This product has been withdrawn from sale. Do not use it; contact the brand."),
        "destroyed": _(
            "This unit was reported destroyed and should not be on sale. Please report where you bought it."
        ),
        "stolen": _("This unit was reported stolen. Do not use it; please report where you bought it."),
        rules.EXPIRED: _("This product is past its expiry date. Do not use it."),
    }.get(warning.code, _("This unit is not in a saleable state. Contact the brand before using it."))
    brand_message = params.get("message")
    return f"{text} {brand_message}" if brand_message else text


def likely_copy(params) -> str:
    """How often, where and since when a code was scanned: the scanner judges the packaging by it."""
    count = int(params.get("scan_count") or 0)
    places = [region_name(str(code)) for code in params.get("places") or ()]
    regions = max(int(params.get("regions") or 0), len(places))
    since = params.get("since")
    values = {"count": intcomma(count), "regions": intcomma(regions), "since": day(since), "places": listed(places)}
    if places and since:
        how_often = ngettext(
            "Scanned %(count)s times in %(regions)s place since %(since)s: %(places)s.",
            "Scanned %(count)s times in %(regions)s places since %(since)s: %(places)s.",
            regions,
        )
    elif since:
        how_often = _("Scanned %(count)s times since %(since)s.")
    else:
        how_often = _("Scanned %(count)s times.")
    return f"{how_often % values} {_('This may be a copy: check the packaging carefully.')}"


def listed(names: list[str]) -> str:
    """ "Selangor, Johor, Pulau Pinang and 2 more", with the language's list separator."""
    shown = pgettext("list separator", ", ").join(names[:PLACES_SHOWN])
    more = len(names) - PLACES_SHOWN
    if more <= 0:
        return shown
    return _("%(places)s and %(more)s more") % {"places": shown, "more": intcomma(more)}


def day(value: datetime | str | None) -> str:
    """A day as the `date` template filter shows it: local time, the language's DATE_FORMAT."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return formats.date_format(timezone.localtime(moment) if timezone.is_aware(moment) else moment, "DATE_FORMAT")
