"""{% plan_usage brand %}: the plan and its usage on the brand's settings page (brands cannot import codes,
so the page asks for it through this tag)."""

from django import template

from codes import quotas

register = template.Library()


@register.inclusion_tag("codes/plan_usage.html")
def plan_usage(brand):
    plan, rows = quotas.usage(brand)
    return {"plan": plan, "rows": rows}
