"""What verify does, for Prometheus: latency and scans by source and outcome."""

from prometheus_client import Counter, Histogram

VERIFY_SECONDS = Histogram(
    "serialize_verify_seconds",
    "Time to answer a verify request",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
SCANS = Counter("serialize_scans_total", "Scans logged", ["source", "outcome"])
