"""Mail settings come from the environment (a deployment's SMTP server), as the README lists them."""

from tests.test_operability import production_env, run_manage

PRINT = (
    "from django.conf import settings as s; print(s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, "
    "s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, s.EMAIL_USE_SSL, s.DEFAULT_FROM_EMAIL, sep='|')"
)


def test_smtp_settings_are_read_from_the_environment():
    env = production_env(
        EMAIL_HOST="smtp.example.net",
        EMAIL_PORT="465",
        EMAIL_HOST_USER="mailer",
        EMAIL_HOST_PASSWORD="s3cret",  # noqa: S106
        EMAIL_USE_SSL="1",
        DEFAULT_FROM_EMAIL="Acme <no-reply@acme.example>",
    )
    out = run_manage("shell", "-c", PRINT, env=env).stdout.strip().splitlines()[-1]
    assert out == "smtp.example.net|465|mailer|s3cret|False|True|Acme <no-reply@acme.example>"


def test_starttls_is_the_default_and_both_tls_kinds_at_once_are_refused():
    out = run_manage("shell", "-c", PRINT, env=production_env()).stdout.strip().splitlines()[-1]
    assert out.split("|")[4:6] == ["True", "False"]
    result = run_manage("check", env=production_env(EMAIL_USE_SSL="1", EMAIL_USE_TLS="1"), check=False)
    assert result.returncode != 0 and "EMAIL_USE_TLS and EMAIL_USE_SSL" in result.stderr
