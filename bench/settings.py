"""Benchmark settings: the app's own, plus the baseline view's URL; rate limiting off for load tests."""

from serialize_saas.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
VERIFY_RATE_LIMIT = "0"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECURE_SSL_REDIRECT = False
LOGGING = {"version": 1, "disable_existing_loggers": True, "root": {"level": "ERROR"}}
API_KEY_RATE = "0"  # API calls are still metered against the plan (the bench brand's is unlimited)
