"""Fail loud: outside the embedded mode, a missing or placeholder secret, a verify URL that would end up on
labels pointing at localhost, or ALLOWED_HOSTS='*' stops start-up (runserver, migrate, check, gunicorn
through wsgi.py, celery through celery.py) with a message saying what to set."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register

from . import keyring

PLACEHOLDERS = {"", "change-me", "changeme", "secret", "build-only"}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}  # noqa: S104 - compared against, never bound


def _applies() -> bool:
    return not settings.EMBEDDED


@register(Tags.security, deploy=False)
def check_secret_key(app_configs=None, **kwargs):
    key = settings.SECRET_KEY
    if not _applies() or not (
        key in PLACEHOLDERS or key == settings.UNSET_SECRET_KEY or len(set(key)) < 5 or len(key) < 50
    ):
        return []
    return [
        Error(
            "SECRET_KEY is missing, a placeholder or too short.",
            hint="Set SECRET_KEY to 50+ random characters: "
            'python -c "import secrets; print(secrets.token_urlsafe(50))"',
            id="serialize.E001",
        )
    ]


@register(Tags.security)
def check_master_key(app_configs=None, **kwargs):
    if not _applies():
        return []
    try:
        keyring.parse_master_key(settings.MASTER_KEY)
    except keyring.KeyringError:
        return [
            Error(
                "MASTER_KEY is missing or malformed: it must be 32 random bytes, base64-encoded.",
                hint="Set MASTER_KEY (and back it up outside the database): "
                'python -c "import base64,os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"',
                id="serialize.E002",
            )
        ]
    return []


@register(Tags.security)
def check_verify_base_url(app_configs=None, **kwargs):
    if not _applies():
        return []
    url = urlsplit(settings.VERIFY_BASE_URL)
    scheme_ok = url.scheme == "https" or (settings.DEBUG and url.scheme == "http")
    host = (url.hostname or "").lower()
    if scheme_ok and host and (settings.DEBUG or host not in LOCAL_HOSTS) and not url.query and not url.fragment:
        return []
    return [
        Error(
            f"VERIFY_BASE_URL {settings.VERIFY_BASE_URL!r} cannot go on labels: every printed QR code carries it.",
            hint="Set VERIFY_BASE_URL to the public https address consumers reach, e.g. https://verify.example.com",
            id="serialize.E003",
        )
    ]


@register(Tags.security)
def check_allowed_hosts(app_configs=None, **kwargs):
    if not _applies() or "*" not in settings.ALLOWED_HOSTS:
        return []
    return [
        Error(
            "ALLOWED_HOSTS='*' lets any Host header through: password-reset and invitation links would point at it.",
            hint="List the hosts the app answers on, e.g. ALLOWED_HOSTS=verify.example.com,app.example.com",
            id="serialize.E004",
        )
    ]


@register(Tags.database)
def check_master_key_opens_the_database(app_configs=None, databases=None, **kwargs):
    """Run by `migrate` and `check --database default`; start-up runs it through `startup.check`."""
    if not databases or not _applies():
        return []
    from .masterkey import MasterKeyError, verify_master_key

    try:
        verify_master_key()
    except (MasterKeyError, keyring.KeyringError) as exc:
        return [Error(str(exc), id="serialize.E005")]
    except Exception:  # noqa: BLE001 - no table yet (before migrate) or no database: other checks say so
        return []
    return []
