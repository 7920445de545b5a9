"""Unconfirmed authenticator devices were reused by every session that opened the enrolment page, so
their keys may have been seen by someone other than their user: remove them. Enrolment now gives
each session its own key (security/views.py)."""

from django.db import migrations


def forward(apps, schema_editor):
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    TOTPDevice.objects.filter(confirmed=False).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("security", "0001_initial"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
