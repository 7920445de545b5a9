"""The public site. It shows published cases and public facts only."""

from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.generic import ListView

from cases.models import Person, Status

from .records import public_cases


@require_safe
def home(request):
    cases = public_cases()
    context = {
        "total": len(cases),
        "outstanding": sum(1 for case in cases if not case.is_clarified),
        "clarified": sum(1 for case in cases if case.is_clarified),
        "recent": sorted(cases, key=lambda case: case.updated_at, reverse=True)[:5],
    }
    return render(request, "public/home.html", context)


class CaseListView(ListView):
    template_name = "public/case_list.html"
    context_object_name = "cases"
    paginate_by = 25
    http_method_names = ["get", "head"]

    def get_queryset(self):
        return public_cases()

    def get_context_data(self, **kwargs):
        return super().get_context_data(statuses=Status, **kwargs)


@require_safe
@never_cache
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        Person.objects.exists()
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")
