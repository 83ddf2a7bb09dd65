"""gunicorn's production settings, read from the working directory (bin/serve, compose, the Dockerfile).

Every value can be overridden by the environment (GUNICORN_CMD_ARGS, or the variables named below)."""

import multiprocessing
import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
# Sync workers: each request is a short database round trip; two per core keep the cores busy while one waits.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (a slow leak never grows unbounded); the jitter keeps them from restarting together.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
# Load the app and its data once in the master: workers start warm and share it copy-on-write.
preload_app = True
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - heartbeat files, not data
# gunicorn's control socket defaults to one path per user ($XDG_RUNTIME_DIR/gunicorn.ctl), so a second instance
# (another site, a test) takes it over from the first. Off unless given a path of its own.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket
# Access log without client addresses (the scan log keeps only salted hashes) and without query strings.
accesslog = "-"
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)s'


def on_starting(server):
    """After the app is loaded (preload_app) and before the port opens or any worker is forked: warm up
    (serialize_saas/warmup.py), so that no request ever queues behind it."""
    from serialize_saas.warmup import warm

    server.log.info("warmed up in %.2f s", warm())


def post_worker_init(worker):
    """A new worker connects to the database and cache before it accepts its first request."""
    from serialize_saas.warmup import connect_worker

    connect_worker()
    worker.log.info("Worker ready (pid: %s)", worker.pid)


def child_exit(server, worker):
    """prometheus_client's multiprocess mode: forget a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
