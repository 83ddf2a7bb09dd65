"""Unconfirmed TOTP devices were shared by every session that opened the enrolment page, so their secrets may
be known to someone else: forget them (enrolling now keeps a secret per session until a code confirms it)."""

from django.db import migrations


def forget_unconfirmed(apps, schema_editor):
    apps.get_model("otp_totp", "TOTPDevice").objects.filter(confirmed=False).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("brands", "0010_brand_two_factor_for_operators"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(forget_unconfirmed, migrations.RunPython.noop)]
