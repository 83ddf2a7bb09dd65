"""One helper puts a service's refusal on a form: beside the field it names, else at the top."""

from django import forms

from core.errors import ServiceError
from core.forms import add_service_error


class _Form(forms.Form):
    lot_number = forms.CharField(required=False)


def _bound() -> _Form:
    form = _Form({"lot_number": "L1"})
    assert form.is_valid()
    return form


def test_a_refusal_naming_a_field_of_the_form_stands_beside_it():
    form = _bound()
    add_service_error(form, ServiceError("lot_number", "No such lot."))
    assert form.errors == {"lot_number": ["No such lot."]}


def test_a_service_argument_is_mapped_onto_the_forms_name_for_it():
    form = _bound()
    add_service_error(form, ServiceError("lot", "No such lot."), {"lot": "lot_number"})
    assert form.errors == {"lot_number": ["No such lot."]}


def test_a_refusal_naming_no_field_of_the_form_stands_at_the_top():
    form = _bound()
    add_service_error(form, ServiceError("quantity", "Too many."))
    assert form.non_field_errors() == ["Too many."]
