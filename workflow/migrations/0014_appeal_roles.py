from django.db import migrations

from workflow.roles import apply_roles


def update_roles(apps, schema_editor):
    """Caseworkers and editors record and follow appeals; researchers read them."""
    apply_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0013_published_appeals"),
        ("advocacy", "0001_initial"),
    ]

    operations = [migrations.RunPython(update_roles, migrations.RunPython.noop)]
