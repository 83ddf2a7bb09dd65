"""Prometheus metrics at /metrics: django-prometheus's request and model metrics, the verify latency and
scans by outcome (scans.metrics), task durations (celery.py) and the Celery queue's depth, read from
Redis when scraped. With several gunicorn workers, bin/serve sets PROMETHEUS_MULTIPROC_DIR so one scrape
sees every worker's counts.

Only for the monitoring system: a bearer METRICS_TOKEN, or, without one, clients on loopback or
private networks (the compose network), never the public. A request relayed by a reverse proxy
(deploy/nginx.conf on the same host) arrives from loopback whoever sent it, so there the client the
proxy names is judged, and a relayed request from a proxy not in TRUSTED_PROXIES is refused.
"""

import hmac
import ipaddress
import logging
import os

from django.conf import settings
from django.http import Http404, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from scans.geo import client_ip

log = logging.getLogger(__name__)
QUEUES = ("celery",)


class QueueDepthCollector:
    """Tasks waiting in each Celery queue (a Redis list per queue), measured at scrape time."""

    def collect(self):
        gauge = GaugeMetricFamily("serialize_celery_queue_depth", "Tasks waiting in a Celery queue", labels=["queue"])
        if settings.REDIS_URL:
            import redis

            try:
                client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
                for queue in QUEUES:
                    gauge.add_metric([queue], client.llen(queue))
            except redis.RedisError:
                log.warning("queue depth unavailable: Redis is not answering")
        yield gauge


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        given = request.META.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ")
        return hmac.compare_digest(given.encode(), token.encode())
    remote = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    relayed = forwarded is not None or "HTTP_FORWARDED" in request.META or "HTTP_X_REAL_IP" in request.META
    sender = client_ip(remote, forwarded, settings.TRUSTED_PROXIES) if relayed else remote
    if relayed and sender == remote:
        return False  # an untrusted proxy: the public may be behind it
    try:
        address = ipaddress.ip_address(sender)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def metrics(request):
    if not _allowed(request):
        raise Http404("No such page")  # like any page that is not there
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    output = generate_latest(registry)
    output += generate_latest(_queue_registry)
    return HttpResponse(output, content_type=CONTENT_TYPE_LATEST)


_queue_registry = CollectorRegistry()
_queue_registry.register(QueueDepthCollector())
metrics.public = True
