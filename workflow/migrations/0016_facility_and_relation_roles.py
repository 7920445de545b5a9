from django.db import migrations

from workflow.roles import apply_roles


def update_roles(apps, schema_editor):
    """Caseworkers and editors record facilities, authorities, the authorities believed responsible for an event and
    relations between persons; editors make facilities and authorities public; researchers read them."""
    apply_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0015_facility_and_authority_index"),
        ("cases", "0006_facilities_authorities_relations"),
    ]

    operations = [migrations.RunPython(update_roles, migrations.RunPython.noop)]
