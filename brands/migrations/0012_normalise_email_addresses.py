"""Log-in now compares the normalised address exactly (NFKC, lower case: brands.models.normalise_email), no
longer case-insensitively in the database; bring stored addresses to that form (only non-ASCII ones can
differ; an address whose normal form another account already has is left for an operator)."""

import unicodedata

from django.db import migrations


def normalise(address: str) -> str:
    return unicodedata.normalize("NFKC", address.strip()).lower()


def normalise_addresses(apps, schema_editor):
    User = apps.get_model("brands", "User")
    for user in User.objects.exclude(email__regex=r"^[\x20-\x7e]*$").only("pk", "email"):
        wanted = normalise(user.email)
        if wanted != user.email and not User.objects.filter(email=wanted).exists():
            User.objects.filter(pk=user.pk).update(email=wanted)
    Invitation = apps.get_model("brands", "Invitation")
    for invitation in Invitation.objects.exclude(email__regex=r"^[\x20-\x7e]*$").only("pk", "email"):
        Invitation.objects.filter(pk=invitation.pk).update(email=normalise(invitation.email))


class Migration(migrations.Migration):
    dependencies = [("brands", "0011_forget_unconfirmed_totp_devices")]

    operations = [migrations.RunPython(normalise_addresses, migrations.RunPython.noop)]
