"""The responder's words (vrs.answers, pure): which R1.3 failure reason or additional information a case gets."""

import pytest

from vrs import answers


@pytest.mark.parametrize(
    ("lot_matches", "expiry_matches", "reason"),
    [
        (False, True, "No_match_GTIN_Serial_Lot"),
        (True, False, "No_match_GTIN_Serial_Expiry"),
        (False, False, "No_match_GTIN_Serial_Lot_Expiry"),
    ],
)
def test_a_mismatch_names_the_parts_that_failed(lot_matches, expiry_matches, reason):
    answer = answers.mismatch(lot_matches=lot_matches, expiry_matches=expiry_matches)
    assert answer.as_json() == {"verified": False, "verificationFailureReason": reason}


def test_a_full_match_is_no_mismatch():
    assert answers.mismatch(lot_matches=True, expiry_matches=True) is None


@pytest.mark.parametrize(
    ("status", "suspect", "expected"),
    [
        ("active", False, {"verified": True}),
        ("expired", False, {"verified": True, "additionalInfo": "Expired"}),
        ("expired", True, {"verified": True, "additionalInfo": "Suspect"}),  # a copy matters more than a date
        ("recalled", True, {"verified": True, "additionalInfo": "Recalled"}),  # a recall is the brand's own word
        ("withdrawn", False, {"verified": True, "additionalInfo": "Recalled"}),
        ("destroyed", True, {"verified": True, "additionalInfo": "Illegitimate"}),
        ("not_activated", False, {"verified": True, "additionalInfo": "Suspect"}),
        ("dispensed", False, {"verified": False, "verificationFailureReason": "Not_for_re-distribution"}),
        ("dispensed", True, {"verified": True, "additionalInfo": "Suspect"}),
    ],
)
def test_a_matching_unit_is_answered_by_its_strongest_state(status, suspect, expected):
    assert answers.of_unit(status=status, suspect=suspect).as_json() == expected


def test_every_word_is_one_of_the_guidelines():
    assert set(answers.FAILURE_REASONS) == {
        "No_match_GTIN_Serial",
        "No_match_GTIN_Serial_Lot",
        "No_match_GTIN_Serial_Expiry",
        "No_match_GTIN_Serial_Lot_Expiry",
        "Manufacturer_policy",
        "No_reason_provided",
        "Not_for_re-distribution",
    }
    assert set(answers.ADDITIONAL_INFO) == {"Expired", "ExpirationExtended", "Recalled", "Suspect", "Illegitimate"}
