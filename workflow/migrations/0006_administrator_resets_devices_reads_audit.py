from django.db import migrations

from workflow.roles import apply_roles


def update_roles(apps, schema_editor):
    apply_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0005_list_indexes"),
        ("otp_totp", "0003_add_timestamps"),
        ("security", "0001_initial"),
    ]

    operations = [migrations.RunPython(update_roles, migrations.RunPython.noop)]
