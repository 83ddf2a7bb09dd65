"""Verdict warnings in words, in the request's language: the one place that turns warning codes into text."""

from django.utils.translation import gettext as _

from . import rules


def word(warning: rules.VerdictWarning) -> str:
    params = warning.params
    if warning.code == rules.LIKELY_COPY:
        return _(
            "Scanned %(count)d times, in %(regions)d different regions. This may be a copy: "
            "check the packaging carefully."
        ) % {"count": params.get("scan_count", 0), "regions": params.get("regions", 0)}
    if warning.code == rules.NOT_ACTIVATED:
        return _(
            "This code was issued by the brand, but the product it belongs to has not been released yet. "
            "If you bought this product, it may be a copy: please report where you bought it."
        )
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
