"""The consent words, in the page's language: one purpose each (what for, how long kept, how to withdraw), as
Malaysia's Personal Data Protection Act 2010 asks of a notice, beside the brand's own privacy notice. Changing
them means a new `services.WORDING_VERSION`, since each consent records the version its owner read."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from .models import Purpose


@dataclass(frozen=True)
class ConsentText:
    purpose: str
    title: str
    text: str
    required: bool


def consent_texts(brand_name: str) -> list[ConsentText]:
    words = {"brand": brand_name}
    return [
        ConsentText(
            Purpose.WARRANTY,
            _("Registration and warranty"),
            _(
                "%(brand)s keeps your name and contact details with this unit to record that you own it and to handle "
                "its warranty. They are kept until the warranty ends and one year after (two years when the product "
                "has no warranty). Needed to register."
            )
            % words,
            True,
        ),
        ConsentText(
            Purpose.SAFETY,
            _("Recall and safety messages"),
            _(
                "%(brand)s may contact you if this product is recalled or has a safety problem. Kept as long as your "
                "registration. Optional."
            )
            % words,
            False,
        ),
        ConsentText(
            Purpose.MARKETING,
            _("Marketing"),
            _("%(brand)s may send you news and offers. Kept until you withdraw this consent. Optional.") % words,
            False,
        ),
    ]


def withdrawal_text(brand_name: str) -> str:
    return _(
        "You can withdraw each consent at any time, and ask to see, correct or delete your details, by contacting "
        "%(brand)s as its privacy notice explains. Your details are processed under Malaysia's Personal Data "
        "Protection Act 2010, are not sold, and are shown only to the brand's support staff."
    ) % {"brand": brand_name}
