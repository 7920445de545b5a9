"""What publishing a case now would put on the public site, and how that differs from what is there.

The preview is built by the code that publishes (:func:`workflow.snapshots.build_record`,
the same numbering and the same checks as :func:`workflow.services.publish`),
never by a second copy of the rules: what an editor reads here is what the
public will read after the click.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from advocacy.vocabularies import Addressee, AppealKind, AppealOutcome, AppealState
from cases.models import Confidence, Person, RelationKind, Sex, Status

from .models import PublishedVersion
from .services import TRANSITIONS, next_version, publication_refusals
from .snapshots import case_rows

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass(frozen=True)
class Change:
    """One difference between the published record and the one publishing would make."""

    section: str
    item: str
    kind: str  # "added", "changed" or "removed"
    before: str = ""
    after: str = ""


@dataclass
class Preview:
    person: Person
    version: PublishedVersion  # not saved: what publishing now would store
    current: PublishedVersion | None
    changes: list[Change]
    problems: list[str]  # every reason publish() would refuse it for this user: the same checks
    may_publish: bool


def preview_case(case_id: str, user: User) -> Preview:
    """The preview of ``case_id`` for ``user``; one 404 for a case that does not exist and one they may not see."""
    person = Person.objects.filter(case_id=case_id).first()
    if person is None or not user.has_perm("cases.view_person"):
        raise Http404(_("No case has this ID."))
    return preview(person, user)


def preview(person: Person, user: User) -> Preview:
    rows = case_rows([person])[person.pk]  # read once, for the record and the checks, as publish() does
    version = next_version(person, by=user, at=timezone.now(), rows=rows)
    current = person.published_versions.current().first()
    refusals = publication_refusals(person, user, rows)
    return Preview(
        person=person,
        version=version,
        current=current,
        changes=record_changes(current.record if current else None, version.record),
        problems=refusals,
        may_publish=TRANSITIONS["publish"].may(user, person) and not refusals,
    )


# --- The difference between two records, in words ---------------------------------------------------------------

FIELDS = [
    ("name", gettext_lazy("Name")),
    ("name_native", gettext_lazy("Name in Korean script")),
    ("romanized", gettext_lazy("Romanized")),
    ("pseudonymous", gettext_lazy("Published under a pseudonym")),
    ("sex", gettext_lazy("Sex")),
    ("birth_date", gettext_lazy("Born")),
    ("nationality", gettext_lazy("Nationality")),
    ("categories", gettext_lazy("Categories")),
    ("summary", gettext_lazy("Summary")),
    ("summary_ko", gettext_lazy("Summary in Korean")),
    ("summary_ja", gettext_lazy("Summary in Japanese")),
    ("status", gettext_lazy("Current status")),
    ("status_since", gettext_lazy("Status since")),
    ("last_confirmed", gettext_lazy("Latest information")),
]
EVENT_FIELDS = [
    ("status", gettext_lazy("status")),
    ("date", gettext_lazy("date")),
    ("place", gettext_lazy("place")),
    ("place_ko", gettext_lazy("place in Korean")),
    ("place_ja", gettext_lazy("place in Japanese")),
    ("description", gettext_lazy("description")),
    ("description_ko", gettext_lazy("description in Korean")),
    ("description_ja", gettext_lazy("description in Japanese")),
    ("facility", gettext_lazy("facility")),
    ("responsible", gettext_lazy("authorities believed responsible")),
    ("confidence", gettext_lazy("confidence")),
    ("citations", gettext_lazy("sources cited")),
]
RELATION_FIELDS = [
    ("confidence", gettext_lazy("confidence")),
    ("citations", gettext_lazy("sources cited")),
]
CITATION_FIELDS = [
    ("source", gettext_lazy("source")),
    ("locator", gettext_lazy("locator")),
    ("excerpt", gettext_lazy("quoted excerpt")),
]
# An appeal's public line (workflow.snapshots.appeal_line): to whom and what kind name it; these may change.
APPEAL_FIELDS = [
    ("sent_on", gettext_lazy("sent on")),
    ("state", gettext_lazy("state")),
    ("outcome", gettext_lazy("outcome")),
    ("closed_on", gettext_lazy("closed on")),
    ("replies", gettext_lazy("replies")),
]
SOURCE_FIELDS = [
    ("title", gettext_lazy("title")),
    ("publisher", gettext_lazy("publisher")),
    ("published_on", gettext_lazy("publication date")),
    ("url", gettext_lazy("address")),
    ("archived_url", gettext_lazy("archived copy")),
]
_LABELS = {
    "status": Status,
    "sex": Sex,
    "confidence": Confidence,
    "kind": AppealKind,
    "addressee": Addressee,
    "state": AppealState,
    "outcome": AppealOutcome,
}


def _shown(key: str, value) -> str:
    if value in (None, "", []):
        return "—"
    if key in _LABELS and value in _LABELS[key].values:
        return str(_LABELS[key](value).label)
    if key == "categories":
        return ", ".join(category["name"] for category in value)
    if key == "facility":
        return value["name"]
    if key == "responsible":
        return ", ".join(f"{held['name']} ({_shown('confidence', held['confidence'])})" for held in value)
    if key == "replies":
        return ", ".join(reply["received_on"] or _("date unknown") for reply in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _event_label(event: dict) -> str:
    return f"{_shown('status', event['status'])} ({event['date'] or _('date unknown')})"


def _relation_label(relation: dict) -> str:
    kind = RelationKind(relation["kind"]).label if relation["kind"] in RelationKind.values else relation["kind"]
    return f"{kind}: {relation['name']} ({relation['case_id']})"


def _appeal_label(appeal: dict) -> str:
    addressee = _shown("addressee", appeal["addressee"])
    country = f" ({appeal['country']})" if appeal["country"] else ""
    return f"{_shown('kind', appeal['kind'])}: {addressee}{country}"


def _field_change(section, item: str, key: str, before, after) -> Change | None:
    """The change of one value as people read it, or None when it reads the same."""
    old, new = _shown(key, before), _shown(key, after)
    if old == new:
        return None
    kind = "added" if old == "—" else "removed" if new == "—" else "changed"
    return Change(str(section), item, kind, old, new)


def _compare(section, item, fields, before: dict, after: dict) -> list[Change]:
    changes = (
        _field_change(section, f"{item}: {label}", key, before.get(key), after.get(key)) for key, label in fields
    )
    return [change for change in changes if change is not None]


def record_changes(before: dict | None, after: dict) -> list[Change]:
    """What publishing ``after`` changes on the public record ``before`` (None: nothing is published yet)."""
    # Nothing published yet: compared with an empty record, everything shown is added.
    before = before or {"other_names": [], "events": [], "citations": [], "sources": [], "pseudonymous": False}
    # Versions published before appeals and relations were recorded hold none.
    before, after = {"appeals": [], "relations": [], **before}, {"appeals": [], "relations": [], **after}
    changes = [
        change
        for key, label in FIELDS
        if (change := _field_change(_("Case"), str(label), key, before.get(key), after.get(key))) is not None
    ]
    names_before = {other["name"] for other in before["other_names"]}
    names_after = {other["name"] for other in after["other_names"]}
    changes += [Change(str(_("Other names")), name, "added") for name in sorted(names_after - names_before)]
    changes += [Change(str(_("Other names")), name, "removed") for name in sorted(names_before - names_after)]

    titles = {source["id"]: source["title"] for source in (*before["sources"], *after["sources"])}
    sections = [
        ("events", _("Events"), _event_label, EVENT_FIELDS),
        ("relations", _("People connected to the case"), _relation_label, RELATION_FIELDS),
        (
            "citations",
            _("Citations"),
            lambda c: f"{titles.get(c['source'], '')}, {c['locator'] or '—'}",
            CITATION_FIELDS,
        ),
        ("sources", _("Sources"), lambda s: s["title"], SOURCE_FIELDS),
        ("appeals", _("Appeals"), _appeal_label, APPEAL_FIELDS),
    ]
    for key, section, label, fields in sections:
        old = {row["id"]: row for row in before[key]}
        new = {row["id"]: row for row in after[key]}
        for pk in new.keys() - old.keys():
            changes.append(Change(str(section), label(new[pk]), "added"))
        for pk in old.keys() - new.keys():
            changes.append(Change(str(section), label(old[pk]), "removed"))
        for pk in old.keys() & new.keys():
            changes += _compare(section, label(new[pk]), fields, old[pk], new[pk])
    return changes
