"""The API's own refusals beside DRF's (a module of its own: DRF's settings import the throttles, which raise
these, before `rest_framework.views` can be imported)."""

from rest_framework import exceptions, status


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The resource is not in a state that allows this."
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


class QuotaExceeded(exceptions.Throttled):
    default_code = "quota-exceeded"

    def __init__(self, *, plan: str, limit: int, wait: float):
        super().__init__(wait=wait, detail=f"Your {plan} plan allows {limit:,} API calls a day; try again tomorrow.")
        self.plan, self.limit = plan, limit


__all__ = ["Conflict", "QuotaExceeded", "Unprocessable"]
