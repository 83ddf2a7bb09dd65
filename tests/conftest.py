import os

import pytest

from brands.models import Role
from tests.factories import BrandFactory, MembershipFactory, logged_in_client


def pytest_collection_modifyitems(config, items):
    """`sqlite` tests run only in bin/test's SQLite pass (no DATABASE_URL: the embedded database)."""
    if os.environ.get("DATABASE_URL"):
        kept = [item for item in items if "sqlite" not in item.keywords]
        if len(kept) != len(items):
            config.hook.pytest_deselected(items=[item for item in items if "sqlite" in item.keywords])
            items[:] = kept


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """A `replica` alias mirroring the test database, as DATABASE_REPLICA_URL makes one (nothing reads from it
    unless a test turns the replica router on: tests/test_replica_router.py)."""
    import copy

    from django.conf import settings

    settings.DATABASES.setdefault("replica", copy.deepcopy(settings.DATABASES["default"]))
    settings.DATABASES["replica"]["TEST"] = {**settings.DATABASES["default"]["TEST"], "MIRROR": "default"}


@pytest.fixture(scope="session", autouse=True)
def _media_root(tmp_path_factory):
    """Files the tests render go to a temporary folder; worker processes inherit it through MEDIA_ROOT."""
    folder = tmp_path_factory.mktemp("media")
    os.environ["MEDIA_ROOT"] = str(folder)
    return folder


@pytest.fixture(autouse=True)
def _test_settings(settings, _media_root):
    settings.MEDIA_ROOT = _media_root
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.VERIFY_RATE_LIMIT = settings.COUNTERFEIT_REPORT_RATE_LIMIT = "0"
    settings.PIN_RATE_LIMIT = settings.PIN_CODE_RATE_LIMIT = "0"
    settings.OWNER_REGISTRATION_RATE_LIMIT = settings.OWNER_LINK_RATE_LIMIT = "0"
    settings.OWNER_LINK_ADDRESS_RATE_LIMIT = "0"
    settings.SIGNUP_RATE_LIMIT = settings.PASSWORD_RESET_RATE_LIMIT = settings.PASSWORD_RESET_ADDRESS_RATE_LIMIT = "0"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server in its own process, behind a proxy that counts the bytes it sends."""
    from tests.s3 import CountingProxy, MotoServer, without_aws_environment

    without_aws_environment()
    server = MotoServer()
    proxy = CountingProxy(server.port)
    yield server, proxy
    proxy.close()
    server.stop()


@pytest.fixture
def s3(settings, s3_server):
    """default_storage becomes a fresh bucket on the S3-compatible server, configured by the same function that
    reads the deployment's environment (standard AWS_* names)."""
    from serialize_saas.settings import file_storage
    from tests.s3 import new_bucket

    bucket = new_bucket(*s3_server)
    settings.STORAGES = {**settings.STORAGES, "default": file_storage(bucket.environ())}
    return bucket


@pytest.fixture(autouse=True)
def _fresh_product_cache():
    from scans.detection import thresholds_cache
    from scans.products import product_cache

    product_cache.clear()
    thresholds_cache.clear()
    yield
    product_cache.clear()
    thresholds_cache.clear()


_client_for = logged_in_client


@pytest.fixture
def brand(db):
    return BrandFactory(name="Acme Supplements")


@pytest.fixture
def other_brand(db):
    return BrandFactory(name="Rival Cosmetics")


@pytest.fixture
def owner(brand):
    return MembershipFactory(brand=brand, role=Role.OWNER)


@pytest.fixture
def owner_client(owner):
    return _client_for(owner)


@pytest.fixture
def viewer_client(brand):
    return _client_for(MembershipFactory(brand=brand, role=Role.VIEWER))


@pytest.fixture
def operator_client(brand):
    return _client_for(MembershipFactory(brand=brand, role=Role.OPERATOR))


@pytest.fixture
def outsider_client(other_brand):
    """The owner of another brand: must see none of `brand`'s objects."""
    return _client_for(MembershipFactory(brand=other_brand, role=Role.OWNER))


@pytest.fixture
def eager_tasks():
    """Celery tasks run in this process as they are sent, as in the embedded mode (the worker tests use a
    real worker); on_commit callbacks still need `django_capture_on_commit_callbacks(execute=True)`."""
    from serialize_saas.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


class Receiver:
    """A real HTTP server on 127.0.0.1 standing in for a brand's webhook endpoint: records every request
    and answers with the statuses it is given (then 200)."""

    def __init__(self, statuses=(), *, held=0):
        import http.server
        import threading

        self.requests, self.statuses = [], list(statuses)
        # The first `held` requests get no answer until `release` is set (a slow receiver, mid-request).
        self.held, self.release = held, threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((dict(self.headers), body))
                if len(receiver.requests) <= receiver.held:
                    receiver.release.wait(60)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"try later")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _clear_api_counters():
    """API keys' rate and quota counters live in the shared cache (Redis), which outlives the test database (whose ids
    start again each run): each test starts with none. Only these keys: the broker shares the database."""
    from django.core.cache import cache

    client = getattr(getattr(cache, "_cache", None), "get_client", None)
    if client is None:
        cache.clear()  # the embedded mode's in-process cache
        return
    redis = client(write=True)
    for pattern in ("*api-calls:*", "*rl:api-key:*"):
        for name in redis.scan_iter(pattern):
            redis.delete(name)
