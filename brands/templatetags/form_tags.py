"""Accessible form fields: an input names its help text and its errors, and says when it is invalid."""

from django import template

register = template.Library()


@register.filter
def accessible(field):
    """Render the field's widget with aria-describedby (help, errors) and aria-invalid when it has errors."""
    ids = ([f"{field.auto_id}_help"] if field.help_text else []) + ([f"{field.auto_id}_error"] if field.errors else [])
    attrs = {"aria-describedby": " ".join(ids)} if ids else {}
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)
