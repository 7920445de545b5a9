from django.db import migrations
from django.utils import timezone

CATEGORIES = [
    ("forcibly-repatriated-refugee", "Forcibly repatriated refugee", "Returned against their will to the country they fled."),
    ("missionary", "Missionary", ""),
    ("abductee", "Abductee", "Taken across a border by state agents."),
    ("unrepatriated-pow", "Unrepatriated prisoner of war", "Held after the end of hostilities and never returned."),
    ("religious-prisoner", "Religious prisoner", "Detained for their religion or belief."),
    ("political-prisoner", "Political prisoner", ""),
    ("foreign-media", "Punished for foreign media", "Punished for watching, listening to or sharing foreign media."),
]


def create_categories(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    HistoricalCategory = apps.get_model("cases", "HistoricalCategory")
    for slug, name, description in CATEGORIES:
        category, created = Category.objects.get_or_create(slug=slug, defaults={"name": name, "description": description})
        if created:
            HistoricalCategory.objects.create(
                id=category.id,
                slug=slug,
                name=name,
                description=description,
                history_date=timezone.now(),
                history_type="+",
                history_change_reason="Initial vocabulary",
            )


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(create_categories, migrations.RunPython.noop)]
