"""Settings are read strictly: a mistyped boolean or number stops start-up with the variable's name, and every
secret may come from a file (NAME_FILE, as Docker and Kubernetes mount secrets)."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from serialize_saas.settings import env_bool, env_float, env_int, env_secret
from tests.test_operability import production_env, run_manage

SHOW = (
    "from django.conf import settings as s; "
    "print(s.SECRET_KEY, s.MASTER_KEY, s.EMAIL_HOST_PASSWORD, s.DATABASES['default']['PASSWORD'], sep='|')"
)


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("Yes", True), (" on ", True), ("0", False), ("off", False)]
)
def test_a_boolean_is_read_from_its_words(monkeypatch, value, expected):
    monkeypatch.setenv("SOME_FLAG", value)
    assert env_bool("SOME_FLAG", not expected) is expected


def test_an_unset_or_empty_value_is_the_default(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "")
    monkeypatch.delenv("SOME_NUMBER", raising=False)
    assert (
        env_bool("SOME_FLAG", True) is True and env_int("SOME_NUMBER", 7) == 7 and env_float("SOME_NUMBER", 1.5) == 1.5
    )


@pytest.mark.parametrize("value", ["flase", "2", "enabled"])
def test_an_unknown_boolean_word_is_a_named_error_not_false(monkeypatch, value):
    monkeypatch.setenv("SOME_FLAG", value)
    with pytest.raises(ImproperlyConfigured, match=f"SOME_FLAG .*{value}"):
        env_bool("SOME_FLAG", False)


@pytest.mark.parametrize(("reader", "value"), [(env_int, "2m"), (env_int, "1.5"), (env_float, "ten")])
def test_a_number_that_is_none_is_a_named_error(monkeypatch, reader, value):
    monkeypatch.setenv("SOME_NUMBER", value)
    with pytest.raises(ImproperlyConfigured, match="SOME_NUMBER"):
        reader("SOME_NUMBER", 1)


def test_a_secret_is_read_from_its_file_without_the_final_newline(tmp_path):
    (tmp_path / "secret").write_text("s3cret\n")
    assert env_secret("API_TOKEN", environ={"API_TOKEN_FILE": str(tmp_path / "secret")}) == "s3cret"
    assert env_secret("API_TOKEN", environ={"API_TOKEN": "plain"}) == "plain"


def test_a_secret_set_twice_or_in_a_missing_file_is_refused(tmp_path):
    (tmp_path / "secret").write_text("s3cret")
    with pytest.raises(ImproperlyConfigured, match="API_TOKEN or API_TOKEN_FILE"):
        env_secret("API_TOKEN", environ={"API_TOKEN": "x", "API_TOKEN_FILE": str(tmp_path / "secret")})
    with pytest.raises(ImproperlyConfigured, match="API_TOKEN_FILE"):
        env_secret("API_TOKEN", environ={"API_TOKEN_FILE": str(tmp_path / "missing")})


def test_start_up_stops_on_a_mistyped_setting_and_names_it():
    for setting, value in [("DETECTION_ENABLED", "ture"), ("WORK_LEASE_SECONDS", "2m")]:
        result = run_manage("check", env=production_env(**{setting: value}), check=False)
        assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr and setting in result.stderr


def test_a_deployment_reads_its_secrets_from_files(tmp_path):
    files = {
        "SECRET_KEY": "k" * 60,
        "MASTER_KEY": "bWFzdGVyLWtleS1mb3ItYS10ZXN0LW9ubHktMzJieXQ=",
        "EMAIL_HOST_PASSWORD": "mail",
        "DATABASE_PASSWORD": "db",  # replaces the one in DATABASE_URL
    }
    env = production_env(SECRET_KEY="", MASTER_KEY="", EMAIL_HOST_PASSWORD="")
    for name, secret in files.items():
        (tmp_path / name).write_text(secret + "\n")
        env[f"{name}_FILE"] = str(tmp_path / name)
    out = run_manage("shell", "-c", SHOW, env=env).stdout.strip().splitlines()[-1]
    assert out.split("|") == list(files.values())
