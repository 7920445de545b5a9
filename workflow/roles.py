"""The staff roles and exactly what each may do (DESIGN.md, "Roles").

Created by the data migration ``workflow/0002_create_roles``; a change here
needs a new migration that calls :func:`apply_roles` again.
"""

from django.utils.translation import pgettext_lazy

CASEWORKER = frozenset(
    {
        "cases.view_person",
        "cases.add_person",
        "cases.change_person",
        "cases.submit_person",
        "cases.view_namevariant",
        "cases.add_namevariant",
        "cases.change_namevariant",
        "cases.delete_namevariant",
        "cases.view_statusevent",
        "cases.add_statusevent",
        "cases.change_statusevent",
        "cases.view_category",
        # To record the sources behind a status change, and to see them.
        "sources.view_source",
        "sources.view_citation",
        "sources.add_citation",
        # The captures of sources' pages and the checks of their links (not the captured files).
        "archive.view_capture",
        "archive.view_linkcheck",
        "workflow.view_publishedversion",
        # Appeals to the UN and governments, and their replies.
        "advocacy.view_appeal",
        "advocacy.add_appeal",
        "advocacy.change_appeal",
        "advocacy.view_appealreply",
        "advocacy.add_appealreply",
        "advocacy.change_appealreply",
        # Where people are held and by whom, and how persons are connected. Other names of a facility and the
        # authorities named on an event are parts of their record, removed like name variants.
        "cases.view_facility",
        "cases.add_facility",
        "cases.change_facility",
        "cases.view_facilityname",
        "cases.add_facilityname",
        "cases.change_facilityname",
        "cases.delete_facilityname",
        "cases.view_authority",
        "cases.add_authority",
        "cases.change_authority",
        "cases.view_responsibility",
        "cases.add_responsibility",
        "cases.change_responsibility",
        "cases.delete_responsibility",
        "cases.view_relation",
        "cases.add_relation",
        "cases.change_relation",
        # The review queue of possible duplicates (/staff/duplicates/), and the decisions' history.
        "linkage.view_candidatepair",
        "linkage.review_candidatepair",
    }
)

RESEARCHER = frozenset(
    {
        "cases.view_person",
        "cases.view_namevariant",
        "cases.view_statusevent",
        "cases.view_category",
        "sources.view_source",
        "sources.add_source",
        "sources.change_source",
        "sources.download_document",
        "sources.view_citation",
        "sources.add_citation",
        "sources.change_citation",
        # Capture a source's page now, download the captures, follow the worker's jobs and the link checks.
        "archive.view_capture",
        "archive.add_capture",
        "archive.download_capture",
        "archive.view_archivejob",
        "archive.view_linkcheck",
        "workflow.view_publishedversion",
        "advocacy.view_appeal",
        "advocacy.view_appealreply",
        # To cite sources for facilities and relations, and to read what they cite.
        "cases.view_facility",
        "cases.view_facilityname",
        "cases.view_authority",
        "cases.view_responsibility",
        "cases.view_relation",
    }
)

EDITOR = (
    CASEWORKER
    | RESEARCHER
    | {
        "cases.publish_person",
        "cases.withdraw_person",
        "cases.revert_history",
        "cases.add_category",
        "cases.change_category",
        # Makes facilities and authorities public, and changes public ones.
        "cases.publish_facility",
        # Withdraws a capture (a page captured with what must not be kept, for instance), with a reason.
        "archive.change_capture",
        # Lets the public download a captured copy of a public source's page, or stops it.
        "archive.publish_capture",
        # Merges two records of one person once a reviewer has marked them so, and undoes a merge
        # (/staff/merges/); reads the merges.
        "cases.merge_person",
        "workflow.view_casemerge",
    }
)

ADMINISTRATOR = frozenset(
    {
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
        "auth.add_group",
        "auth.change_group",
        "auth.view_permission",
        # Reset a lost authenticator: delete the user's device; read the audit.
        "otp_totp.view_totpdevice",
        "otp_totp.delete_totpdevice",
        "security.view_auditevent",
    }
)

ROLES = {"Caseworker": CASEWORKER, "Researcher": RESEARCHER, "Editor": EDITOR, "Administrator": ADMINISTRATOR}
# The group names stay in English in the database; people read them in their language.
ROLE_LABELS = {
    "Caseworker": pgettext_lazy("role", "Caseworker"),
    "Researcher": pgettext_lazy("role", "Researcher"),
    "Editor": pgettext_lazy("role", "Editor"),
    "Administrator": pgettext_lazy("role", "Administrator"),
}


def role_label(name: str) -> str:
    """A group's name as people read it: a role's in their language, any other group's as it is."""
    return str(ROLE_LABELS.get(name, name))


def apply_roles(apps) -> None:
    """Create the groups and give each exactly its permissions."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrations; a fresh database
    # needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, permissions in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for permission in sorted(permissions):
            app_label, codename = permission.split(".")
            # A permission of an app migrated later is given by a later migration that calls this again.
            found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if found is not None:
                wanted.append(found)
        group.permissions.set(wanted)
