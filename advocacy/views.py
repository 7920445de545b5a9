"""Staff pages of appeals beside the admin: the printable WGEID submission."""

from django.http import Http404


def wgeid_submission(request, pk: int, person_pk: int):
    raise Http404
