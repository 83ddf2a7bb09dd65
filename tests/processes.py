"""Real processes for tests: a Celery worker, or a manage.py command, on the test database."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def env_for_test_database(**extra) -> dict:
    """The environment of this test run, pointed at the test database pytest-django created."""
    db = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Worker:
    """`celery worker` in its own process group, so a test can kill it like a crash would."""

    def __init__(self, queues: tuple[str, ...] = (), **env):
        self.env = env_for_test_database(**env)
        self.queues = ["-Q", ",".join(queues), "-n", f"{queues[0]}@%h"] if queues else []  # default: every queue
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        celery = [sys.executable, "-m", "celery", "-A", "serialize_saas"]
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(
            [*celery, "worker", "--pool", "solo", "--without-mingle", "--without-gossip", "-l", "INFO", *self.queues],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: "ready." in Path(self.log.name).read_text() or self.process.poll() is not None, 60)
        if self.process.poll() is not None:
            raise RuntimeError("celery worker died: " + Path(self.log.name).read_text()[-2000:])
        return self

    def kill(self) -> None:
        """SIGKILL: no cleanup, no acknowledgement, as when a machine dies."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def purge_queue(env: dict) -> None:
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "serialize_saas", "purge", "-f"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )


def wait_for(predicate, timeout: float = 120, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")
