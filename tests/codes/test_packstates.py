"""Pack-state names and groups live in codes/packstates.py; the choices stored and the verify rules follow it."""

from codes import packstates
from codes.models import Code, CodeStatus
from scans import rules


def test_code_status_offers_exactly_the_pack_states():
    assert set(CodeStatus.values) == packstates.STATES
    assert {choice for choice, _ in Code._meta.get_field("status").choices} == packstates.STATES


def test_each_code_status_member_is_named_for_its_state():
    assert all(member.name.lower() == member.value for member in CodeStatus)


def test_expired_is_derived_never_stored():
    assert packstates.EXPIRED not in packstates.STATES
    assert rules.effective_status(packstates.ACTIVE, expires_on=None, today=None) == packstates.ACTIVE


def test_the_groups_are_made_of_pack_states():
    stored_or_derived = packstates.STATES | {packstates.EXPIRED}
    for group in (packstates.FINAL, packstates.WARNED, packstates.OUT_OF_CIRCULATION):
        assert group <= stored_or_derived
    assert packstates.FINAL <= packstates.WARNED <= packstates.OUT_OF_CIRCULATION


def test_the_verify_rules_take_their_states_from_packstates():
    assert rules.STATE_WARNINGS == packstates.WARNED
    assert rules.LATE_STATES == packstates.OUT_OF_CIRCULATION
    assert (rules.RECALLED, rules.EXPIRED, rules.NOT_ACTIVATED) == (
        packstates.RECALLED,
        packstates.EXPIRED,
        packstates.NOT_ACTIVATED,
    )


def test_every_state_the_verify_page_warns_of_has_its_own_words():
    from scans import wording

    generic = wording.word(rules.VerdictWarning(rules.INACTIVE, {"status": packstates.SAMPLE}))
    for state in packstates.WARNED:
        assert wording.word(rules.VerdictWarning(state)) != generic


def test_a_refusal_is_given_exactly_when_a_change_leaves_a_unit_as_it_is():
    for to_status in filter(packstates.can_change_to, packstates.STATES):
        for from_status in packstates.STATES:
            refusal = packstates.refusal(from_status, to_status)
            assert (refusal is None) == packstates.moves(from_status, to_status), (from_status, to_status)
            assert refusal is None or from_status in refusal  # it names the state the unit stays in


def test_a_refusal_says_why_in_pack_state_words():
    assert packstates.refusal("stolen", "sample") == "The unit is stolen: that state is final."
    assert packstates.refusal("sample", "sample") == "The unit is already sample."
    assert "only a final state" in packstates.refusal("not_activated", "sample")
    assert packstates.refusal("not_activated", "destroyed") is None
    assert packstates.refusal("active", "recalled") is None
