"""The README's Python client example, run as written against a live server (bin/serve) and a real worker."""

import re
import subprocess
import sys

import pytest

from codes.models import Code, CodeStatus
from tests.factories import MembershipFactory, ProductFactory
from tests.processes import ROOT, Worker, env_for_test_database, purge_queue, wait_for
from tests.test_serving import _listening, fetch, free_port, serve_env

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

EXAMPLE = re.compile(r"<!-- api-client-example -->\n```python\n(.*?)```", re.S)


def readme_example() -> str:
    return EXAMPLE.search((ROOT / "README.md").read_text()).group(1)


def test_the_readme_client_orders_downloads_looks_up_and_recalls(tmp_path):
    brand = MembershipFactory().brand
    ProductFactory(brand=brand, gtin="09506000134352")
    made = subprocess.run(  # the key as an operator makes one
        [sys.executable, "manage.py", "create_api_key", "--brand", brand.slug, "--scopes", "read,write,admin"],
        cwd=ROOT,
        env=env_for_test_database(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    key = made.stdout.strip().splitlines()[-1]
    port = free_port()
    env = serve_env(tmp_path, port, ALLOWED_HOSTS="127.0.0.1")
    purge_queue(env_for_test_database())
    worker = Worker().start()
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen(["bash", "bin/serve"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603, S607
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: server.poll() is not None or (_listening(port) and fetch(base + "/healthz")[0] == 200), 120)
        assert server.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
        client = subprocess.run(
            [sys.executable, "-c", readme_example()],
            env={**env_for_test_database(), "SERIALIZE_API": base + "/api/v1", "SERIALIZE_KEY": key},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        worker.stop()
        server.terminate()
        server.wait(20)
    assert client.returncode == 0, client.stderr[-3000:]
    lines = client.stdout.splitlines()
    assert lines[0].startswith("1000 codes, the first: ") and "/01/09506000134352/10/L2612/21/" in lines[0]
    assert lines[1].endswith(" active L2612") or lines[1].endswith(" not_activated L2612"), lines[1]
    assert lines[2] == "recalled: done"
    assert Code.objects.filter(batch__product__brand=brand, status=CodeStatus.RECALLED).count() == 1000
