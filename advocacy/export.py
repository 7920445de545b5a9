"""The staff spreadsheet (CSV) of appeals."""

from django.http import Http404


def appeals_csv(request):
    raise Http404
