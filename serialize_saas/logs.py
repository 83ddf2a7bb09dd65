"""The request id every log line of a request carries (loaded by LOGGING, before the apps are)."""

import contextvars
import logging

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every log record, so one request's lines can be found together."""

    def filter(self, record):
        record.request_id = request_id_var.get()
        return True
