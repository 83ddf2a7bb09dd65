"""What a DSCSA verification responder answers, as words of the GS1 Lightweight Messaging Standard for
verification (US implementation guideline R1.3): pure, no Django.

`verified` says whether the product identifier (GTIN, serial, lot, expiry) is one the brand assigned; when it is
not, `verificationFailureReason` says which part failed (a GTIN + serial that does not match stops there: lot and
expiry are not checked then). A verified identifier's `additionalInfo` tells what the unit's live state means for
the requester: recalled, expired, suspect, illegitimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# verificationFailureReason (R1.3)
NO_MATCH_GTIN_SERIAL: Final = "No_match_GTIN_Serial"
NO_MATCH_LOT: Final = "No_match_GTIN_Serial_Lot"
NO_MATCH_EXPIRY: Final = "No_match_GTIN_Serial_Expiry"
NO_MATCH_LOT_EXPIRY: Final = "No_match_GTIN_Serial_Lot_Expiry"
MANUFACTURER_POLICY: Final = "Manufacturer_policy"
NO_REASON: Final = "No_reason_provided"
NOT_FOR_REDISTRIBUTION: Final = "Not_for_re-distribution"
FAILURE_REASONS: Final = (
    NO_MATCH_GTIN_SERIAL,
    NO_MATCH_LOT,
    NO_MATCH_EXPIRY,
    NO_MATCH_LOT_EXPIRY,
    MANUFACTURER_POLICY,
    NO_REASON,
    NOT_FOR_REDISTRIBUTION,
)

# additionalInfo (R1.3)
EXPIRED: Final = "Expired"
EXPIRATION_EXTENDED: Final = "ExpirationExtended"
RECALLED: Final = "Recalled"
SUSPECT: Final = "Suspect"
ILLEGITIMATE: Final = "Illegitimate"
ADDITIONAL_INFO: Final = (EXPIRED, EXPIRATION_EXTENDED, RECALLED, SUSPECT, ILLEGITIMATE)

# Pack states (codes.packstates' names, repeated here to stay pure) and what a partner is told of each.
# Stolen or destroyed units should not exist in anyone's hands: illegitimate (DSCSA 581(8)). A recall or
# withdrawal is a recall to the partner. A label whose unit the brand never released (not yet activated) is
# suspect. Units that left the saleable supply chain (dispensed, supplied, exported, decommissioned, samples,
# locked, checked out) match, but must not come back: not for re-distribution.
_ILLEGITIMATE_STATES: Final = frozenset({"stolen", "destroyed"})
_RECALLED_STATES: Final = frozenset({"recalled", "withdrawn"})
_SUSPECT_STATES: Final = frozenset({"not_activated"})
_SALEABLE: Final = "active"


@dataclass(frozen=True)
class Answer:
    """The `data` of a verification response."""

    verified: bool
    failure_reason: str = ""
    additional_info: str = ""

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {"verified": self.verified}
        if self.failure_reason:
            data["verificationFailureReason"] = self.failure_reason
        if self.additional_info:
            data["additionalInfo"] = self.additional_info
        return data


def not_matched() -> Answer:
    """GTIN and serial match no unit of the brand's (lot and expiry are not checked then)."""
    return Answer(False, NO_MATCH_GTIN_SERIAL)


def by_policy() -> Answer:
    """The brand may not vouch for this GTIN yet (its GS1 prefix claim is not approved)."""
    return Answer(False, MANUFACTURER_POLICY)


def mismatch(*, lot_matches: bool, expiry_matches: bool) -> Answer | None:
    """A unit the brand issued, presented with another lot and/or expiry; None when both match."""
    if lot_matches and expiry_matches:
        return None
    if not lot_matches and not expiry_matches:
        return Answer(False, NO_MATCH_LOT_EXPIRY)
    return Answer(False, NO_MATCH_LOT if not lot_matches else NO_MATCH_EXPIRY)


def of_unit(*, status: str, suspect: bool) -> Answer:
    """A matching identifier, by its unit's live state: `status` as the verify page reads it (expired derived from
    the lot's date), `suspect` when detection made the code a likely copy. The strongest word wins: illegitimate,
    then recalled, then suspect, then expired."""
    if status in _ILLEGITIMATE_STATES:
        return Answer(True, additional_info=ILLEGITIMATE)
    if status in _RECALLED_STATES:
        return Answer(True, additional_info=RECALLED)
    if suspect or status in _SUSPECT_STATES:
        return Answer(True, additional_info=SUSPECT)
    if status == "expired":
        return Answer(True, additional_info=EXPIRED)
    if status != _SALEABLE:
        return Answer(False, NOT_FOR_REDISTRIBUTION)
    return Answer(True)
