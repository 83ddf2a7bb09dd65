"""Webhook endpoints: create, rotate the secret, send a test event, the delivery log."""

from . import router  # noqa: F401
