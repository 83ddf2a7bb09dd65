"""Serialize settings: everything variable comes from the environment.

With nothing set, the app runs embedded: SQLite under var/, Celery tasks executed in-process, a generated
development secret and master key kept in var/. With DATABASE_URL / REDIS_URL it runs on PostgreSQL with
Redis as Celery broker and cache, as in production.
"""

import base64
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


# Booleans and numbers are read strictly: a typo (DEBUG=flase, WORK_LEASE_SECONDS=2m) stops start-up with the
# variable's name, never a silent False nor a traceback that names no setting. Unset or empty: the default.
TRUE_WORDS, FALSE_WORDS = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in TRUE_WORDS | FALSE_WORDS:
        return value in TRUE_WORDS
    raise ImproperlyConfigured(f"{name} must be 1/0, true/false, yes/no or on/off, not {os.environ[name]!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        return float(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}.") from None


def env_secret(name: str, default: str = "", environ=os.environ) -> str:
    """A secret from NAME, or from the file NAME_FILE names (Docker and Kubernetes secrets): the file's contents
    without its final newline. Both at once is refused: which one wins would be a guess."""
    path = environ.get(f"{name}_FILE", "")
    if not path:
        return environ.get(name, default)
    if environ.get(name):
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both.")
    try:
        return Path(path).read_text().rstrip("\r\n")
    except OSError as error:
        raise ImproperlyConfigured(f"{name}_FILE: cannot read {path} ({error.strerror}).") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def _local_secret(filename: str, make) -> str:
    """A per-checkout secret for the embedded mode, created once and kept under var/."""
    path = VAR_DIR / filename
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


DATABASE_URL = env("DATABASE_URL")
REDIS_URL = env("REDIS_URL")
EMBEDDED = not DATABASE_URL

DEBUG = env_bool("DEBUG", EMBEDDED)
# Only the embedded mode makes its own secrets (under var/). A deployment must set them: web and worker
# would each make different ones, and a restart would lose them. brands/checks.py stops start-up with a
# message when they are missing; the placeholder only keeps Django importable until the check says so.
UNSET_SECRET_KEY = "unset-secret-key-set-SECRET_KEY-in-the-environment-" + "x" * 20
SECRET_KEY = env_secret("SECRET_KEY") or (
    _local_secret("secret_key", lambda: secrets.token_urlsafe(50)) if EMBEDDED else UNSET_SECRET_KEY
)
# MASTER_KEY wraps every brand's serial key (AES-256-GCM): 32 bytes, base64-encoded.
MASTER_KEY = env_secret("MASTER_KEY") or (
    _local_secret("master_key", lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()) if EMBEDDED else ""
)
# Where `bin/run` serves (host:port). Unless VERIFY_BASE_URL says otherwise, printed codes point there: a label
# printed now carries this host for good, so the batch and order pages show it.
BIND = env("BIND", "127.0.0.1:8000")
VERIFY_BASE_URL_FROM_BIND = not env("VERIFY_BASE_URL")


def _base_url_of(bind: str) -> str:
    """http://host:port for runserver's address argument ("8765", "127.0.0.1:8765", "0.0.0.0:8000")."""
    host, _, port = bind.rpartition(":") if ":" in bind else (("", "", bind) if bind.isdigit() else (bind, "", "8000"))
    if host in ("", "0.0.0.0", "::", "[::]"):  # noqa: S104 - "all interfaces" is no address a phone can open
        host = "127.0.0.1"
    return f"http://{host}:{port}"


# Outside the embedded mode it must be set (the start-up checks name it when it is missing).
VERIFY_BASE_URL = (env("VERIFY_BASE_URL") or (_base_url_of(BIND) if EMBEDDED else "")).rstrip("/")
# Where people open the dashboard: the absolute links in e-mails (an alert's page). The verify host unless set.
SITE_URL = (env("SITE_URL") or VERIFY_BASE_URL).rstrip("/")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
if DEBUG and not env("ALLOWED_HOSTS"):
    ALLOWED_HOSTS.append(BIND.rpartition(":")[0].strip("[]") or "127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "django_prometheus",
    "core",
    "brands",
    "notifications",
    "codes",
    "distributors",
    "scans",
    "vrs",
    "epcis",
    "owners",
    "backoffice",
    "api",
    "demo",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "serialize_saas.middleware.RequestIdMiddleware",
    "serialize_saas.middleware.HealthCheckMiddleware",
    "serialize_saas.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "scans.middleware.JsonVerifyFastPath",
    "vrs.middleware.PartnerFastPath",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "serialize_saas.middleware.PrivatePagesMiddleware",
    "brands.middleware.SecondFactorMiddleware",  # after OTPMiddleware: it reads whether the session is verified
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "serialize_saas.urls"
WSGI_APPLICATION = "serialize_saas.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "brands.context_processors.current_brand",
            ],
        },
    },
]

if EMBEDDED:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # WAL: the web process reads while the embedded worker writes a batch.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }
else:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    # The password may come apart from the URL, from a secret's file (DATABASE_PASSWORD_FILE) or the environment.
    if env_secret("DATABASE_PASSWORD"):
        DATABASES["default"]["PASSWORD"] = env_secret("DATABASE_PASSWORD")
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Server-side binding lets psycopg prepare a statement after a few runs on a connection, so the
        # verify hot path is planned once per connection, not on every scan (not for PgBouncer's
        # transaction pooling: point DATABASE_URL at the server or a session pool).
        DATABASES["default"]["OPTIONS"] = {"server_side_binding": True}
    # A PostgreSQL read replica for the dashboard's heavy reads (serialize_saas.routers); writes, the verify path
    # and workers stay on the primary. Tests point it at the test database (TEST MIRROR).
    DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL")
    if DATABASE_REPLICA_URL:
        DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=60, conn_health_checks=True)
        DATABASES["replica"]["OPTIONS"] = dict(DATABASES["default"].get("OPTIONS", {}))
        DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
        DATABASE_ROUTERS = ["core.routers.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "brands.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# django-axes counts failed log-ins (the site's and the admin's) per client address and per account, in
# the database, and refuses more for a while: a guessed password no longer works after 60 tries.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "serialize_saas.clients.client_ip_for_axes"
AXES_USERNAME_CALLABLE = "serialize_saas.clients.username_for_axes"
AXES_VERBOSE = False
# Sign-up and password reset: per client and per address (django-ratelimit, in the shared cache).
SIGNUP_RATE_LIMIT = env("SIGNUP_RATE_LIMIT", "10/h")
PASSWORD_RESET_RATE_LIMIT = env("PASSWORD_RESET_RATE_LIMIT", "10/h")  # per client
PASSWORD_RESET_ADDRESS_RATE_LIMIT = env("PASSWORD_RESET_ADDRESS_RATE_LIMIT", "3/h")  # mails per address
RATELIMIT_FAIL_OPEN = True
SIGNUP_LINK_MAX_AGE = 2 * 24 * 3600
OTP_TOTP_ISSUER = "Serialize"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

if REDIS_URL:
    # Short timeouts: with Redis down, verify must still answer (rate limits fail open), not hang.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # No CLIENT SETINFO: it costs each new connection two round trips and a package metadata read.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5, "driver_info": None},
        }
    }
    # Django's own RedisCache increments atomically; django-ratelimit only lists django-redis by name.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # One process in the embedded mode: its own memory is the whole of the "shared" cache.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

LANGUAGE_CODE = "en"
# The languages Malaysian consumers read; the verify page follows the phone's language.
LANGUAGES = [("en", "English"), ("ms", "Bahasa Melayu"), ("zh-hans", "简体中文"), ("ta", "தமிழ்")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates and counts as each language writes them (Django's formats, adjusted: serialize_saas/formats).
FORMAT_MODULE_PATH = ["serialize_saas.formats"]
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"
S3_BACKEND = "storages.backends.s3.S3Storage"
# Presigned download links (print files, photos on S3) are valid this long: enough to start a download, too
# short to be worth forwarding.
DOWNLOAD_URL_SECONDS = env_int("DOWNLOAD_URL_SECONDS", 60)


def file_storage(environ) -> dict:
    """The `default` storage from the environment: the filesystem, or S3 / an S3-compatible server from the
    standard django-storages names. Files are private, never overwritten, and presigned for a short time."""
    backend = environ.get("FILE_STORAGE_BACKEND") or "django.core.files.storage.FileSystemStorage"
    if backend != S3_BACKEND:
        return {"BACKEND": backend}
    bucket = environ.get("AWS_STORAGE_BUCKET_NAME", "")
    if not bucket:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("FILE_STORAGE_BACKEND is S3: set AWS_STORAGE_BUCKET_NAME (and the other AWS_*).")
    options = {
        "bucket_name": bucket,
        "endpoint_url": environ.get("AWS_S3_ENDPOINT_URL") or None,
        "region_name": environ.get("AWS_S3_REGION_NAME") or None,
        "custom_domain": environ.get("AWS_S3_CUSTOM_DOMAIN") or None,
        "access_key": environ.get("AWS_ACCESS_KEY_ID") or None,
        "secret_key": env_secret("AWS_SECRET_ACCESS_KEY", environ=environ) or None,
        "security_token": environ.get("AWS_SESSION_TOKEN") or None,
        "location": environ.get("AWS_LOCATION", ""),
        "addressing_style": environ.get("AWS_S3_ADDRESSING_STYLE") or None,
        "signature_version": environ.get("AWS_S3_SIGNATURE_VERSION") or "s3v4",
        # Evidence photos and print files are private: no public-read ACL, ever; links are presigned.
        "default_acl": "private",
        "querystring_auth": True,
        "querystring_expire": int(environ.get("DOWNLOAD_URL_SECONDS") or DOWNLOAD_URL_SECONDS),
        # Never replace an object that has the name asked for (upload names are random anyway).
        "file_overwrite": False,
        "object_parameters": {"CacheControl": "private, no-store"},
    }
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}


# Print files hold serials and scratch PINs, reports hold consumers' photos: readable by this user only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700


STORAGES = {
    "default": file_storage(os.environ),
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Embedded mode prints mail to the console; a deployment sends it (invitation and password-reset links
# must not end up in logs).
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if EMBEDDED else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
# STARTTLS on the submission port (587) by default; EMAIL_USE_SSL=1 for implicit TLS (port 465) instead.
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL)
if EMAIL_USE_SSL and EMAIL_USE_TLS:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive: set one of them.")
EMAIL_TIMEOUT = 10
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 8 * 1024 * 1024)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Serialize <no-reply@localhost>")

# Celery: Redis-backed workers, or in the embedded mode a worker (started by bin/run) on Kombu's filesystem
# transport, a broker that needs no server: work runs outside the request and pages show live progress.
# CELERY_TASK_ALWAYS_EAGER=1 runs tasks inside the request instead (no worker at all).
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Nothing reads a task's result; storing none also spares every enqueue a subscription to the result store (with
# Redis down, that subscription retried for 19 s inside the request).
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the task to be redelivered
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 55 * 60
CELERY_RESULT_EXPIRES = 24 * 60 * 60
# With acks_late, Redis hands an unacknowledged task to another worker after this many seconds: longer
# than any task may run, so only a dead worker's task is redelivered (and tasks are safe to run twice).
# A task the broker refused is kept as a row of this model (core.queueing, which names no app, writes it).
UNSENT_TASK_MODEL = "brands.UnsentTask"
# Sending a task never stalls a request: with the broker down or unreachable, the connection attempt gives up
# after BROKER_CONNECT_SECONDS, without retrying (max_retries 0, no publish retry), and the caller carries on;
# the rows are the record of the work, and the beat sweeps send it again once the broker is back.
BROKER_CONNECT_SECONDS = env_float("BROKER_CONNECT_SECONDS", 1)
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_CONNECT_SECONDS
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3900),
    "socket_connect_timeout": BROKER_CONNECT_SECONDS,
    "socket_timeout": env_float("BROKER_SOCKET_SECONDS", 3),  # longer than kombu's 1 s BRPOP poll
    "max_retries": 0,
}
# Work whose task message was lost (sent while the broker was down, or dropped by a broker restart) is sent again
# by a beat sweep once it has waited this long without a worker starting it.
WORK_RESEND_SECONDS = env_int("WORK_RESEND_SECONDS", 300)
# Running work (a batch, a print part, a status change) whose worker has committed nothing for this long lost its
# worker: the sweep hands it to another, which resumes after the last committed chunk. Longer than any one chunk
# takes (CODES_CHUNK_SIZE codes, PRINT_CHUNK_SIZE labels: a live worker whose chunk outlasts it would be joined).
WORK_LEASE_SECONDS = env_int("WORK_LEASE_SECONDS", 120)
if not REDIS_URL:
    QUEUE_DIR = VAR_DIR / "queue"
    for folder in ("processed", "control"):
        (QUEUE_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(QUEUE_DIR),
        "data_folder_out": str(QUEUE_DIR),
        "processed_folder": str(QUEUE_DIR / "processed"),
        "control_folder": str(QUEUE_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.5,
    }
# `celery beat`: daily housekeeping (retention of personal data and old scans, the scan log's partitions for the
# coming months, brands whose deletion is due).
CELERY_BEAT_SCHEDULE = {
    "apply-retention": {"task": "scans.tasks.apply_retention_task", "schedule": 24 * 60 * 60},
    # Owners' registrations past what their consent promised (owners.wording): a year after the warranty ends.
    "erase-expired-registrations": {
        "task": "owners.tasks.erase_expired_registrations_task",
        "schedule": 24 * 60 * 60,
    },
    "create-scan-partitions": {"task": "scans.tasks.create_scan_partitions_task", "schedule": 24 * 60 * 60},
    "delete-offboarded-brands": {"task": "brands.tasks.delete_due_brands_task", "schedule": 60 * 60},
    # Hourly, so a missed run catches up; each subscriber's digest of a day is sent once (claimed first).
    "send-alert-digests": {"task": "scans.tasks.send_alert_digests_task", "schedule": 60 * 60},
    # Every minute: tasks that could not be sent, and queued work no worker has started (see WORK_RESEND_SECONDS).
    "send-unsent-tasks": {"task": "brands.tasks.send_unsent_tasks_task", "schedule": 60},
    "resend-stalled-work": {"task": "codes.tasks.resend_stalled_work_task", "schedule": 60},
    "resend-stalled-deliveries": {"task": "notifications.tasks.resend_stalled_deliveries_task", "schedule": 60},
    "resend-stalled-recall-notices": {"task": "owners.tasks.resend_stalled_notices_task", "schedule": 60},
    "forget-idempotency-keys": {"task": "api.tasks.forget_idempotency_keys_task", "schedule": 24 * 60 * 60},
}
# One queue per kind of work, so each can get worker hosts of its own (`celery worker -Q print`); a worker started
# without -Q consumes every queue listed here. The default set-ups (bin/run, docker-compose.yml) run two workers:
# WORK_QUEUES (batches, print files, recalls, alerts, housekeeping) and OUTBOUND_QUEUES (webhooks and e-mail, which
# wait on other people's servers), so a slow receiver never holds a slot a batch or a recall needs.
# Unrouted tasks (recalls: their units' next scan must say so) stay on the default queue, never behind a big batch.
CELERY_TASK_DEFAULT_QUEUE = "celery"
WORK_QUEUES = ("celery", "print", "alerts", "housekeeping")
OUTBOUND_QUEUES = ("webhooks", "mail")
CELERY_TASK_QUEUES = [Queue(name) for name in (*WORK_QUEUES, *OUTBOUND_QUEUES)]
CELERY_TASK_ROUTES = {
    "codes.tasks.generate_batch_task": {"queue": "print"},  # making codes and their files: long, CPU-bound
    "codes.tasks.render_print_part_task": {"queue": "print"},
    "codes.tasks.import_serials_task": {"queue": "print"},  # registering uploaded serials: long, like a batch
    "scans.tasks.record_findings_task": {"queue": "alerts"},  # seconds matter: never behind a print job
    "notifications.tasks.send_event_email_task": {"queue": "mail"},
    "scans.tasks.send_alert_email_task": {"queue": "mail"},
    "scans.tasks.send_alert_digests_task": {"queue": "mail"},
    "owners.tasks.queue_recall_notices_task": {"queue": "mail"},
    "owners.tasks.send_recall_notice_task": {"queue": "mail"},
    "notifications.tasks.deliver_webhook_task": {"queue": "webhooks"},  # slow receivers and retries
    "scans.tasks.apply_retention_task": {"queue": "housekeeping"},
    "owners.tasks.erase_expired_registrations_task": {"queue": "housekeeping"},
    "owners.tasks.send_owner_link_task": {"queue": "mail"},
    "scans.tasks.create_scan_partitions_task": {"queue": "housekeeping"},
    "brands.tasks.delete_due_brands_task": {"queue": "housekeeping"},
    "brands.tasks.export_brand_task": {"queue": "housekeeping"},
    "api.tasks.forget_idempotency_keys_task": {"queue": "housekeeping"},
}

# Tasks run with a recall's id once it is applied (codes.recalls names no app above it): the owners' e-mails.
RECALL_FOLLOW_UP_TASKS = ["owners.tasks.queue_recall_notices_task"]

# Public verify routes: requests per IP per window ("60/m", "1000/h"); "0" turns limiting off (load tests).
VERIFY_RATE_LIMIT = env("VERIFY_RATE_LIMIT", "60/m")
COUNTERFEIT_REPORT_RATE_LIMIT = env("COUNTERFEIT_REPORT_RATE_LIMIT", "5/h")
PIN_RATE_LIMIT = env("PIN_RATE_LIMIT", "10/h")  # PIN attempts per code and client
PIN_CODE_RATE_LIMIT = env("PIN_CODE_RATE_LIMIT", "100/d")  # PIN attempts per code, from anywhere
# The product registration page (views and submissions) per client network.
OWNER_REGISTRATION_RATE_LIMIT = env("OWNER_REGISTRATION_RATE_LIMIT", "30/h")
# The "My registration" page (an owner asking for the link to see, export or delete their details) per network.
OWNER_LINK_RATE_LIMIT = env("OWNER_LINK_RATE_LIMIT", "10/h")
OWNER_LINK_ADDRESS_RATE_LIMIT = env("OWNER_LINK_ADDRESS_RATE_LIMIT", "3/h")  # links mailed per address
# IPv6 clients are limited per /64 at the rates above and per /56 (one customer's delegation) at this many times.
IPV6_PREFIX_RATE_FACTOR = env_int("IPV6_PREFIX_RATE_FACTOR", 4)
# Proxies whose X-Forwarded-For is believed: addresses or CIDRs, comma-separated.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
# A current GeoLite2/GeoIP2 City database; the packaged 2019 GeoLite2 file is used when unset.
GEOIP_CITY_DB = env("GEOIP_CITY_DB") or None

# Detection on the verify path (off only to measure its cost: bench/detect.py).
DETECTION_ENABLED = env_bool("DETECTION_ENABLED", True)

# Webhooks: targets on private or loopback addresses are refused (no SSRF) unless this is set (tests,
# on-premises receivers); then plain http:// is accepted too.
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 10)  # each connect and read
WEBHOOK_DEADLINE_SECONDS = env_float("WEBHOOK_DEADLINE_SECONDS", 15)  # the whole request, however it trickles
ALERT_NOTIFICATIONS_PER_HOUR = env_int("ALERT_NOTIFICATIONS_PER_HOUR", 20)  # new alerts sent out a brand-hour
WEBHOOK_SECRET_OVERLAP_HOURS = env_int("WEBHOOK_SECRET_OVERLAP_HOURS", 24)  # old secret signs too after a rotation
# "Send test event": one per endpoint per this many seconds, and at most WEBHOOK_TEST_PER_BRAND per brand in it.
WEBHOOK_TEST_INTERVAL_SECONDS = env_int("WEBHOOK_TEST_INTERVAL_SECONDS", 60)
WEBHOOK_TEST_PER_BRAND = env_int("WEBHOOK_TEST_PER_BRAND", 3)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)  # 30 s, 1, 2, 4 … 64 min apart: about 2 hours
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30)
WEBHOOK_DISABLE_AFTER = env_int("WEBHOOK_DISABLE_AFTER", 5)  # deliveries given up on in a row

# Print files: codes per output file (a 1M batch gives 10 parts) and codes read from the database at once.
# No part may exceed PRINT_PART_SIZE_MAX codes, whatever a job or the command asks for.
PRINT_PART_SIZE_MAX = env_int("PRINT_PART_SIZE_MAX", 250000)
PRINT_PART_SIZE = min(env_int("PRINT_PART_SIZE", 100000), PRINT_PART_SIZE_MAX)
PRINT_CHUNK_SIZE = env_int("PRINT_CHUNK_SIZE", 10000)

# Personal data is kept only this many days (0 keeps it forever), enforced daily by `scans.tasks.apply_retention`:
# a scan's IP hash (the scan itself stays as evidence, anonymous), consumers' counterfeit reports (with their
# photos; a photo may go earlier), and the log of who downloaded which print file.
RETENTION_SCAN_IP_HASH_DAYS = env_int("RETENTION_SCAN_IP_HASH_DAYS", 90)
RETENTION_REPORT_DAYS = env_int("RETENTION_REPORT_DAYS", 730)
RETENTION_REPORT_PHOTO_DAYS = env_int("RETENTION_REPORT_PHOTO_DAYS", 365)
RETENTION_DOWNLOAD_LOG_DAYS = env_int("RETENTION_DOWNLOAD_LOG_DAYS", 365)
RETENTION_LOGIN_LOG_DAYS = env_int("RETENTION_LOGIN_LOG_DAYS", 30)  # django-axes: addresses of log-ins
# Scans themselves: the current month and this many whole months before it are kept, older months are dropped
# whole (scans.partitions; 0 keeps every scan). The overview's numbers live on in the daily rollups; at least 2,
# since the log's own 30-day views (distributors, the scan list) must stay whole.
RETENTION_SCAN_MONTHS = env_int("RETENTION_SCAN_MONTHS", 0)
if 0 < RETENTION_SCAN_MONTHS < 2:
    raise ImproperlyConfigured("RETENTION_SCAN_MONTHS must be 0 (keep every scan) or at least 2.")
# An owner's request to delete a brand waits this long (the export stays downloadable; it can be cancelled).
BRAND_DELETION_GRACE_DAYS = env_int("BRAND_DELETION_GRACE_DAYS", 14)
# Uploaded images are re-encoded (metadata dropped) and refused beyond these limits.
UPLOAD_IMAGE_MAX_BYTES = env_int("UPLOAD_IMAGE_MAX_BYTES", 5 * 1024 * 1024)
UPLOAD_IMAGE_MAX_PIXELS = env_int("UPLOAD_IMAGE_MAX_PIXELS", 40_000_000)
UPLOAD_IMAGE_MAX_SIDE = env_int("UPLOAD_IMAGE_MAX_SIDE", 2048)
# Memory one decode may take (after a JPEG's reduced decode): 64 MB is a 16-megapixel PNG.
UPLOAD_IMAGE_MAX_DECODE_BYTES = env_int("UPLOAD_IMAGE_MAX_DECODE_BYTES", 64 * 1024 * 1024)

# Codes per transaction when generating a batch: bounds memory and the work lost to a killed worker.
CODES_CHUNK_SIZE = env_int("CODES_CHUNK_SIZE", 50000)
# The largest file of serials a brand may upload (codes.imports): 10 million serials of 20 characters, with room.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 400 * 1024 * 1024)
# Lines of such a file checked and registered per transaction: larger than a batch's chunks (checking a line costs
# less than making a code), still a second or two of work, far inside WORK_LEASE_SECONDS.
IMPORT_CHUNK_LINES = env_int("IMPORT_CHUNK_LINES", 200_000)

# The REST API (api/): API keys are actors of brands.access; errors are RFC 9457 problems.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ActorPermission"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.KeyRateThrottle", "api.throttling.DailyQuotaThrottle"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Cursor",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
}
# Calls per key per window, shared by every worker (Redis); the plan caps calls per brand per day besides.
API_KEY_RATE = env("API_KEY_RATE", "600/m")
# How long an `Idempotency-Key`'s answer is kept for retries.
IDEMPOTENCY_KEY_DAYS = env_int("IDEMPOTENCY_KEY_DAYS", 7)
SPECTACULAR_SETTINGS = {
    "TITLE": "Serialize API",
    "DESCRIPTION": "Brands' systems: products, batches, codes, recalls, distribution, scans, alerts, webhooks. "
    "Send an API key made in Settings as `Authorization: Bearer <key>`. Errors are RFC 9457 problem details.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "AlertStatusEnum": "scans.models.AlertStatus",
        "CodeStatusEnum": "codes.models.CodeStatus",
        "ChangeStateEnum": "codes.models.ChangeState",
        "PrintFormatEnum": "codes.models.PrintFormat",
        "ImportFormatEnum": "codes.models.ImportFormat",
    },
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.add_problem_responses"],
}

# Production hardening: on whenever DEBUG is off.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Content Security Policy: scripts only from our own static files (no inline script or handler anywhere);
# the one inline style element (the brand colour on the verify page) carries the request's nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# /metrics (Prometheus): with a token, scrapers send "Authorization: Bearer <token>"; without one, only
# loopback and private-network clients are answered.
METRICS_TOKEN = env("METRICS_TOKEN")
PROMETHEUS_EXPORT_MIGRATIONS = False

# Error reports to Sentry (or any Sentry-compatible service) when a DSN is set; no personal data is sent.
SENTRY_DSN = env_secret("SENTRY_DSN")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        environment=env("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=env_float("SENTRY_TRACES_SAMPLE_RATE", 0),
        send_default_pii=False,
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "filters": {"request_id": {"()": "serialize_saas.logs.RequestIdFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # 4xx responses are not worth a log line each: every made-up serial is a 404 on the public route.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "django.request": {"level": "ERROR"}},
}
if not REDIS_URL:
    # The filesystem broker has no host, and kombu says so on every enqueue: not worth a line each time.
    LOGGING["loggers"]["kombu.connection"] = {"level": "ERROR"}
