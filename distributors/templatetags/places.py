"""{{ scan.region_code|region }}: an ISO 3166 region code as people read it ("Selangor, MY"); see
`distributors.territory.region_label`, the one helper for it."""

from django import template

from distributors.territory import region_label

register = template.Library()


@register.filter
def region(code) -> str:
    return region_label(str(code or "").strip().upper())
