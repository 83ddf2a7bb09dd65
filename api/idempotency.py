"""`Idempotency-Key`: a POST retried with the same key gets the first answer again and does nothing twice.

Decorate a viewset's create with `@idempotent`. The key is the brand's (unique per brand); the request is
fingerprinted (method, path, raw body), so the same key with another request is a 422. Only successful answers
are kept: a refused request (400, 409, 429 …) leaves no trace and may be retried with the same key, as Stripe's
API does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps

from django.db import IntegrityError, transaction
from rest_framework import exceptions, status
from rest_framework.response import Response

from .models import IdempotentRequest
from .problems import Unprocessable

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def fingerprint(request) -> str:
    """The request as the key promises it: method, path and the exact body bytes."""
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def idempotent(view_method: Callable) -> Callable:
    """Make a viewset action answer a retried request (same `Idempotency-Key`) with its first answer."""

    @wraps(view_method)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(view, request, *args, **kwargs)
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise exceptions.ValidationError({HEADER: [f"Send 1 to {MAX_KEY_LENGTH} characters."]})
        return run_once(request, key, lambda: view_method(view, request, *args, **kwargs))

    return wrapper


def run_once(request, key: str, run: Callable[[], Response]) -> Response:
    brand, asked = request.actor.brand, fingerprint(request)  # the body is read here, before the parsers
    earlier = IdempotentRequest.objects.filter(brand=brand, key=key).first()
    if earlier is not None:
        return replay(earlier, asked)
    with transaction.atomic():
        # The race: two requests with one key at once both find no row above. Both INSERT; PostgreSQL's unique
        # index makes the second INSERT wait for the first transaction. If it commits, the second INSERT fails
        # and that request replays the committed answer; if it rolls back (refused), the second one runs.
        # The row is committed with the work and its answer, never without them.
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(brand=brand, key=key, fingerprint=asked, status=0)
        except IntegrityError:
            return replay(IdempotentRequest.objects.get(brand=brand, key=key), asked)
        response = run()
        if not status.is_success(response.status_code):
            transaction.set_rollback(True)  # nothing was done: the key stays free for a retry
            return response
        record.status, record.body = response.status_code, response.data
        record.location = response.headers.get("Location", "")
        record.save(update_fields=["status", "body", "location"])
    return response


def replay(record: IdempotentRequest, asked: str) -> Response:
    if record.fingerprint != asked:
        raise Unprocessable(f"This {HEADER} was used with another request; send a new key for a new request.")
    response = Response(record.body, status=record.status)
    if record.location:
        response["Location"] = record.location
    response["Idempotent-Replayed"] = "true"
    return response


def forget_idempotency_keys(*, before) -> int:
    """Drop answers older than `before`: a retry comes within minutes, so a week is plenty (beat, daily)."""
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=before).delete()
    return deleted
