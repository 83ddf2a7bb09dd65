"""Fail loud: outside the embedded mode each bad setting stops start-up with a message naming it."""

import base64
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from brands.masterkey import MasterKeyError, verify_master_key
from codes.models import Code
from scans.products import product_cache
from tests.factories import ProductFactory, ready_batch
from tests.processes import env_for_test_database
from tests.test_operability import ROOT, production_env, run_manage


def new_master_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.mark.parametrize(
    ("setting", "value", "check_id"),
    [
        ("SECRET_KEY", "", "serialize.E001"),
        ("SECRET_KEY", "change-me", "serialize.E001"),
        ("MASTER_KEY", "", "serialize.E002"),
        ("MASTER_KEY", "change-me", "serialize.E002"),
        ("VERIFY_BASE_URL", "", "serialize.E003"),
        ("VERIFY_BASE_URL", "http://127.0.0.1:8000", "serialize.E003"),
        ("ALLOWED_HOSTS", "*", "serialize.E004"),
    ],
)
def test_start_up_refuses_each_bad_setting_with_its_message(setting, value, check_id):
    result = run_manage("check", env=production_env(**{setting: value}), check=False)
    assert result.returncode != 0 and check_id in result.stderr and setting in result.stderr


def test_deploy_check_reports_the_bad_setting_too():
    result = run_manage("check", "--deploy", env=production_env(MASTER_KEY="change-me"), check=False)
    assert result.returncode != 0 and "serialize.E002" in result.stderr


def test_gunicorns_entry_point_refuses_to_load_with_a_bad_setting():
    probe = [sys.executable, "-c", "import serialize_saas.wsgi"]
    env = production_env(VERIFY_BASE_URL="http://localhost")
    result = subprocess.run(probe, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0 and "VERIFY_BASE_URL" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_a_wrong_master_key_stops_start_up():
    ProductFactory()  # a brand key sealed under this run's MASTER_KEY
    verify_master_key()  # records the key check
    probe = [sys.executable, "-c", "import serialize_saas.wsgi"]
    env = {**production_env(MASTER_KEY=new_master_key()), "DATABASE_URL": env_for_test_database()["DATABASE_URL"]}
    result = subprocess.run(probe, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0 and "serialize.E005" in result.stderr and "MASTER_KEY" in result.stderr


def test_rotate_master_key_keeps_every_code_verifying(db, settings, monkeypatch):
    codes = list(
        Code.objects.filter(batch=ready_batch(ProductFactory(gtin="09506000134352"), quantity=5, activated=True))
    )
    verify_master_key()
    new_key = new_master_key()
    monkeypatch.setenv("NEW_MASTER_KEY", new_key)
    call_command("rotate_master_key")
    settings.MASTER_KEY = new_key
    product_cache.clear()
    verify_master_key()
    for code in codes:
        response = Client().get(f"/01/09506000134352/21/{code.serial}", HTTP_ACCEPT="application/json")
        assert response.json()["authentic"] is True
    settings.MASTER_KEY = new_master_key()
    with pytest.raises(MasterKeyError):
        verify_master_key()


def test_rotate_master_key_changes_nothing_when_the_current_key_is_wrong(db, settings, monkeypatch):
    ProductFactory()
    verify_master_key()
    settings.MASTER_KEY = new_master_key()
    monkeypatch.setenv("NEW_MASTER_KEY", new_master_key())
    with pytest.raises(CommandError, match="nothing changed"):
        call_command("rotate_master_key")
