"""Services' refusals shown on forms: the one place a ServiceError becomes a form error."""

from collections.abc import Mapping

from django import forms

from .errors import ServiceError


def add_service_error(form: forms.BaseForm, error: ServiceError, names: Mapping[str, str] | None = None) -> None:
    """Put a service's refusal beside the field it names when the form has that field (`names` maps a
    service's argument to the form's field where they differ), else at the top of the form."""
    field = (names or {}).get(error.field, error.field)
    form.add_error(field if field in form.fields else None, error.message)
