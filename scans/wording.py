"""Verdicts and their warnings in words, in the request's language: the one place that turns a verdict's status
and warning codes into text (the verify page's headline included).

Counts and dates are formatted as the templates format them (humanize's `intcomma`, the locale's
DATE_FORMAT; see serialize_saas/formats), places named as everywhere else (`region_label`)."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import formats, timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext, pgettext
from django.utils.translation import gettext as _

from codes import regulators
from codes.regulators import Registration
from distributors.territory import region_name

from . import rules

PLACES_SHOWN = 3  # "Selangor, Johor, Pulau Pinang and 2 more"


def word(warning: rules.VerdictWarning) -> str:
    params = warning.params
    if warning.code == rules.LIKELY_COPY:
        return likely_copy(params)
    if warning.code == rules.NOT_ACTIVATED:
        return _(
            "This code was issued by the brand, but the product it belongs to has not been released yet. "
            "If you bought this product, it may be a copy: please report where you bought it."
        )
    if warning.code == rules.ALREADY_REGISTERED:
        return _(
            "This unit was registered by someone else on %(date)s. One unit has one owner: if you bought it "
            "recently, its label may be a copy. The brand has been told; please report where you bought it."
        ) % {"date": day(params.get("since"))}
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
    # The brand's message in the reader's language when it wrote one, else its default (English) one.
    translated = params.get("messages") or {}
    brand_message = (translated.get(get_language()) if isinstance(translated, dict) else None) or params.get("message")
    return f"{text} {brand_message}" if brand_message else text


# --- Alerts: what detection found, in the brand's words --------------------------------------------------


def alert_title(kind: str) -> str:
    """What happened, as an e-mail subject or a heading says it."""
    return {
        rules.LIKELY_COPY: _("Likely copy of a unit"),
        rules.GREY_MARKET: _("Unit scanned outside its distributor's territory"),
        rules.OFF_MARKET: _("Unit scanned outside your markets"),
        rules.HOT_SPOT: _("Counterfeit hot spot"),
        rules.LATE_SCAN: _("Scan of a unit that should no longer circulate"),
        rules.SECOND_REGISTRATION: _("Unit registered by a second person"),
    }.get(kind, _("Alert"))


def alert_reasons(kind: str, details: dict, *, where: str = "", distributor: str = "") -> list[str]:
    """Why detection raised an alert of `kind`, one sentence per reason, from the alert's details (the rules'
    finding parameters). `where` names the place of the scan that opened it, `distributor` who held the unit."""
    if kind == rules.LIKELY_COPY:
        return _copy_reasons(details)
    if kind == rules.GREY_MARKET:
        if distributor:
            return [
                _("Scanned in %(where)s, outside the territory of %(distributor)s, who holds this unit.")
                % {"where": where or _("an unknown place"), "distributor": distributor}
            ]
        return [
            _("Scanned in %(where)s, outside its distributor's territory.") % {"where": where or _("an unknown place")}
        ]
    if kind == rules.OFF_MARKET:
        return [
            _("Scanned in %(where)s, where you do not sell (see the markets in your detection settings).")
            % {"where": where or _("an unknown place")}
        ]
    if kind == rules.HOT_SPOT:
        return [
            _("%(count)d scans of serials that were never issued, in %(where)s within %(minutes)d minutes.")
            % {
                "count": details.get("count", 0),
                "where": where or _("one region"),
                "minutes": details.get("minutes", 0),
            }
        ]
    if kind == rules.SECOND_REGISTRATION:
        return [
            _("Someone tried to register this unit, registered by its owner on %(date)s: two people hold one unit.")
            % {"date": day(details.get("first_registered_at"))}
        ]
    if kind == rules.LATE_SCAN:
        if details.get("recall"):
            return [
                _("Units of a recall were scanned after the recall; every late scan of this recall is listed below.")
            ]
        return [_("Scanned although the unit is %(state)s.") % {"state": state_word(str(details.get("status", "")))}]
    return []


def _copy_reasons(details: dict) -> list[str]:
    words = {
        "regions": _("Scanned in %(regions)d different regions, more than a single genuine unit would travel.")
        % {"regions": details.get("regions", 0)},
        "devices": _("Scanned from %(devices)d different phones, more than one buyer checks one unit.")
        % {"devices": details.get("devices", 0)},
        "travel": _("Scanned %(km)d km from the scan before, which means travelling at %(kmh)d km/h.")
        % {"km": details.get("km", 0), "kmh": details.get("kmh", 0)},
    }
    reasons = [words[reason] for reason in details.get("reasons", []) if reason in words]
    return reasons or [_("Scanned again after earlier scans made it a likely copy.")]


def state_word(status: str) -> str:
    return {
        rules.RECALLED: _("recalled"),
        rules.EXPIRED: _("past its expiry date"),
        "withdrawn": _("withdrawn"),
        "destroyed": _("reported destroyed"),
        "stolen": _("reported stolen"),
        "decommissioned": _("decommissioned"),
    }.get(status, status)


def alert_status(status: str) -> str:
    return {
        "new": _("new"),
        "investigating": _("being investigated"),
        "escalated": _("escalated"),
        "closed": _("closed"),
    }.get(status, status)


# --- Verdicts ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    """What the verify page says first: its tone (the colour: ok, warn or bad), title and sentence ("" for none)."""

    tone: str
    title: str
    text: str = ""


def headline(verdict: rules.Verdict) -> Headline:
    """The verify page's headline for a verdict."""
    if not verdict.authentic:
        return _not_authentic_headline(verdict.status)
    if verdict.pin is not None:
        return _pin_headline(verdict.pin)
    if verdict.status != "active":
        title = {rules.RECALLED: _("Recalled"), rules.EXPIRED: _("Expired")}.get(
            verdict.status or "", _("Not for sale")
        )
        return Headline("bad", title, _("This is a genuine code, but the product must not be used."))
    values = {"count": verdict.scan_count, "when": day(verdict.first_scanned_at), "times": intcomma(verdict.scan_count)}
    if verdict.is_likely_copy:
        text = ngettext(
            "Authentic code, first verified on %(when)s; scanned %(times)s time.",
            "Authentic code, first verified on %(when)s; scanned %(times)s times.",
            verdict.scan_count,
        )
        return Headline("warn", _("Warning: possible copy"), _filled(text, values))
    place = verdict.first_scanned_in
    if verdict.first_scan:
        text = _filled(_("Verified in %(place)s."), {"place": place}) if place else ""
        return Headline("ok", _("Authentic. First scan."), text)
    if place:
        text = ngettext(
            "First verified on %(when)s in %(place)s; scanned %(times)s time.",
            "First verified on %(when)s in %(place)s; scanned %(times)s times.",
            verdict.scan_count,
        )
        return Headline("ok", _("Authentic code"), _filled(text, {**values, "place": place}))
    text = ngettext(
        "First verified on %(when)s; scanned %(times)s time.",
        "First verified on %(when)s; scanned %(times)s times.",
        verdict.scan_count,
    )
    return Headline("ok", _("Authentic code"), _filled(text, values))


def _pin_headline(pin: rules.PinCheck) -> Headline:
    if not pin.verified:
        return Headline(
            "bad", _("That PIN does not match"), _("Check the digits under the scratch panel and try again.")
        )
    if pin.first_use:
        return Headline("ok", _("Genuine, PIN verified"), _("This is the first time this PIN has been used."))
    text = _("It was first used on %(when)s. If you have just scratched it yourself, this label may be a copy.")
    return Headline(
        "bad", _("This PIN was already used"), _filled(text, {"when": day(pin.first_used_at, "DATETIME_FORMAT")})
    )


def _not_authentic_headline(status: str | None) -> Headline:
    if status == rules.NOT_ACTIVATED:
        return Headline("warn", _("Not yet activated"))  # the page shows the warning's words below it
    if status == rules.UNVERIFIED_BRAND:
        return Headline(
            "warn",
            _("Not yet verified brand"),
            _(
                "This code was registered by a brand whose identity Serialize has not verified yet, so we cannot "
                "confirm that this product is genuine."
            ),
        )
    return Headline(
        "bad",
        _("We could not verify this product"),
        _("This code is not one we issued, or the label has been altered. It may be a counterfeit."),
    )


def _filled(text: str, values: dict) -> SafeString:
    """A translated sentence with its values filled in as `blocktranslate` fills them: the values escaped, the
    translator's words as written."""
    return mark_safe(text % {name: conditional_escape(value) for name, value in values.items()})  # noqa: S308


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


def day(value: datetime | str | None, format_name: str = "DATE_FORMAT") -> str:
    """A day as the `date` template filter shows it: local time, the language's DATE_FORMAT (or `format_name`)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return formats.date_format(timezone.localtime(moment) if timezone.is_aware(moment) else moment, format_name)


# --- Regulators: the product's registration, in the reader's language --------------------------------------


@dataclass(frozen=True)
class RegulatorLine:
    """A registration as the verify page shows it: what it is, and a link to the regulator's own search."""

    text: str
    link_text: str
    url: str


def registration(reg: Registration) -> str:
    """ "Registered with NPRA (Malaysia): MAL19990123AZ", "US NDC 12345-678-90"."""
    text = {
        regulators.MAL: _("Registered with NPRA (Malaysia): %(number)s"),
        regulators.NOT: _("Cosmetic notified to NPRA (Malaysia): %(number)s"),
        regulators.NDC: _("US NDC %(number)s"),
    }.get(reg.kind, "%(number)s")
    return text % {"number": reg.number}


def regulator_lines(facts: rules.ProductFacts | None) -> list[RegulatorLine]:
    """The page's lines for a product's registrations, each linking to where anyone can check it."""
    if facts is None:
        return []
    return [RegulatorLine(registration(reg), _search_words(reg), reg.search_url) for reg in facts.registrations]


def _search_words(reg: Registration) -> str:
    if reg.kind == regulators.NDC:
        return _("Look it up on DailyMed (US National Library of Medicine)")
    return _("Check it in NPRA's product search (QUEST3+)")


def farmatag_notice() -> str:
    """Serialize is not Malaysia's official security label and never poses as it: the consumer checks that too."""
    return _(
        "This product must also carry the Ministry of Health's FarmaTag security label, a hologram sticker. "
        "Check that label too, as NPRA explains: it is the official mark, and this page does not replace it."
    )
