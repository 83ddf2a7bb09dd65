import os
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_has_the_six_services_with_commands_env_and_healthchecks():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "redis", "web", "worker", "outbound", "beat"}
    for name, service in services.items():
        assert "healthcheck" in service and service["healthcheck"]["test"], name
    for name in ("web", "worker", "outbound", "beat"):
        service = services[name]
        assert service["build"] == "." and service["command"], name
        assert service["environment"]["DATABASE_URL"].startswith("postgres://")
        assert service["environment"]["REDIS_URL"].startswith("redis://")
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["web"]["command"] == ["bin/serve"]
    serve = (ROOT / "bin/serve").read_text()
    for step in ("migrate --noinput", "collectstatic --noinput", "gunicorn serialize_saas.wsgi"):
        assert step in serve
    assert services["worker"]["command"][:3] == ["celery", "-A", "serialize_saas"]


def test_dockerfile_installs_the_pinned_project_dependencies():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY pyproject.toml" in dockerfile and "pip install ." in dockerfile
    assert "libdmtx0b" in dockerfile


def test_env_example_names_every_setting_the_app_reads():
    example = (ROOT / ".env.example").read_text()
    for name in ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "MASTER_KEY", "VERIFY_BASE_URL"):
        assert f"{name}=" in example


def test_dockerignore_keeps_secrets_state_and_the_virtualenv_out_of_the_image():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", "var/", ".venv/", ".git/"):
        assert entry in ignored


def test_two_gunicorn_instances_of_one_user_do_not_share_a_control_socket(tmp_path):
    """gunicorn's control socket defaults to one path per user: a second site (or a test) took it over."""
    from gunicorn.app.base import Application

    class Loaded(Application):
        def init(self, parser, opts, args):
            return None

        def load(self):
            return None

        def load_config(self):
            self.load_config_from_file(str(ROOT / "gunicorn.conf.py"))

    assert Loaded().cfg.control_socket_disable is True
    os.environ["GUNICORN_CONTROL_SOCKET"] = str(tmp_path / "site-a.ctl")
    try:
        cfg = Loaded().cfg
    finally:
        del os.environ["GUNICORN_CONTROL_SOCKET"]
    assert cfg.control_socket_disable is False and cfg.control_socket == str(tmp_path / "site-a.ctl")
