"""On PostgreSQL, GIN trigram indexes for the fuzzy step of the staff's name search.

Serve ``Person.objects.filter(name_key__trigram_similar=...)``,
``native_key__trigram_similar`` and ``NameVariant.objects.filter(key__trigram_similar=...)``
(the indexed ``%`` operator) in ``cases.search.search_persons``, which the person
list of the admin searches with. SQLite has no trigram index; the search there
ranks a bounded set of candidates in Python instead.
"""

from django.db import migrations

INDEXES = [
    ("cases_person_name_key_trgm", "cases_person", "name_key"),
    ("cases_person_native_key_trgm", "cases_person", "native_key"),
    ("cases_namevariant_key_trgm", "cases_namevariant", "key"),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_person_is_synthetic")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
