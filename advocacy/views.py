"""Staff pages of appeals beside the admin: the printable WGEID submission."""

import contextlib

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cases.names import script_language

from .models import Appeal


@require_safe
@never_cache
@login_required
def wgeid_submission(request: HttpRequest, pk: int, person_pk: int) -> HttpResponse:
    """One person's case in the structure of the WGEID questionnaire, filled from the case and the appeal.

    Staff only, and only for a person the appeal concerns; whoever may not
    read appeals or cases gets the same 404 as for an appeal that does not
    exist. Restricted texts (internal notes) stay out: the page is meant to
    be sent.
    """
    if not (request.user.has_perm("advocacy.view_appeal") and request.user.has_perm("cases.view_person")):
        raise Http404
    appeal = get_object_or_404(Appeal, pk=pk)
    person = get_object_or_404(appeal.persons.prefetch_related("variants"), pk=person_pk)
    loss = person.loss_of_liberty()
    context = {
        "appeal": appeal,
        "person": person,
        "native_language": script_language(person.name_native),
        "variants": list(person.variants.all()),
        "loss": loss,
        # The authorities recorded as believed responsible for the arrest or disappearance.
        "responsible": list(loss.responsibilities.select_related("authority")) if loss else [],
        # Everything that stops the appeal being sent, and whose page fills each (None: the appeal's).
        "missing": appeal.wgeid_missing_where(),
        "organisation": {
            "name": settings.ORGANISATION_NAME,
            "contact": settings.ORGANISATION_CONTACT,
            "address": settings.ORGANISATION_ADDRESS,
        },
    }
    # The Working Group reads English (French and Spanish too): a caseworker who works in Korean prints the
    # submission in English. Any other value is ignored: the page stays in the staff member's language.
    in_english = request.GET.get("language") == "en"
    with translation.override("en") if in_english else contextlib.nullcontext():
        context["other_language"] = None if in_english or translation.get_language() == "en" else "en"
        return render(request, "advocacy/wgeid_submission.html", context)
