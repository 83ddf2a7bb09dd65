"""One error format for every API error: RFC 9457 `application/problem+json`.

`{"type", "title", "status", "detail"}`, plus `errors` (field -> messages) for a 400 and whatever a problem
adds (the plan of an exceeded quota). Services' refusals (ServiceError) are 400s naming their field.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ServiceError

from .exceptions import Conflict, QuotaExceeded, Unprocessable  # noqa: F401 - views raise them from here

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://serialize.example/problems/"


def problem(status_code: int, detail: str = "", *, kind: str = "", **extra) -> dict:
    body = {
        "type": TYPE_BASE + kind if kind else "about:blank",
        "title": HTTPStatus(status_code).phrase,
        "status": status_code,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    return body


def _messages(detail, path: str, into: dict[str, list[str]]) -> None:
    """Flatten DRF's nested detail: `events.1` for the second item of a list field, `lines.0.serial` deeper."""
    if isinstance(detail, dict):
        for name, inner in detail.items():
            _messages(inner, f"{path}.{name}" if path else str(name), into)
    elif isinstance(detail, list) and any(isinstance(item, (dict, list)) for item in detail):
        for n, inner in enumerate(detail):
            if inner:  # DRF puts {} for the items of a list that are fine
                _messages(inner, f"{path}.{n}" if path else str(n), into)
    else:
        items = detail if isinstance(detail, list) else [detail]
        into.setdefault(path or "non_field_errors", []).extend(str(m) for m in items)


def _field_errors(detail) -> dict[str, list[str]]:
    """DRF's nested error detail as field -> list of messages."""
    errors: dict[str, list[str]] = {}
    _messages(detail, "", errors)
    return errors


def exception_handler(exc, context):
    """Every exception a view raises, as a problem. Unknown ones are logged and answered 500 without detail."""
    if isinstance(exc, ServiceError):
        body = problem(400, exc.message, kind="invalid", errors={exc.field or "non_field_errors": [exc.message]})
        return Response(body, status=400, content_type=CONTENT_TYPE)
    if isinstance(exc, RequestDataTooBig):
        body = problem(413, "The body is larger than this server takes: send less in one request.")
        return Response(body, status=413, content_type=CONTENT_TYPE)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        log.exception("API request failed", exc_info=exc)
        return Response(problem(500, "Something went wrong on our side."), status=500, content_type=CONTENT_TYPE)
    if isinstance(exc, exceptions.ValidationError):
        body = problem(400, "The request has invalid fields.", kind="invalid", errors=_field_errors(exc.detail))
    elif isinstance(exc, QuotaExceeded):
        body = problem(429, str(exc.detail), kind="quota-exceeded", plan=exc.plan, limit=exc.limit)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else ""
        body = problem(response.status_code, str(detail))
    response.data = body
    response.content_type = CONTENT_TYPE
    return response


def not_found(request, *args, **kwargs):
    """Any /api/ path that matches no route."""
    return JsonResponse(problem(404, "No such API route."), status=404, content_type=CONTENT_TYPE)


not_found.public = True  # type: ignore[attr-defined]  # answers nothing but "no such route"
