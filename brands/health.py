"""/healthz: is the database answering, does MASTER_KEY open its keys, and is Redis (when configured)
answering? For load balancers and compose: 503 names the failed part."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def healthz(request):
    checks = {"database": _check_database()}
    if checks["database"] == "ok":
        from .masterkey import master_key_state

        checks["master_key"] = master_key_state()
    if settings.REDIS_URL:
        checks["redis"] = _check_redis()
    healthy = all(state == "ok" for state in checks.values())
    response = JsonResponse({"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response


healthz.public = True  # type: ignore[attr-defined]  # load balancers ask it; it says nothing about anyone


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception:  # noqa: BLE001 - any failure means unhealthy; details go to logs, not to the caller
        return "fail"


def _check_redis() -> str:
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1).ping()
        return "ok"
    except Exception:  # noqa: BLE001
        return "fail"
