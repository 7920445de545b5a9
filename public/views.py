"""The public site. It reads published versions only (see workflow.snapshots)."""

from django.db import connection
from django.db.models import Count, Q
from django.db.utils import DatabaseError
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.generic import ListView

from workflow.models import PublishedVersion


@require_safe
def home(request):
    cases = PublishedVersion.objects.current()
    counts = cases.aggregate(total=Count("pk"), clarified=Count("pk", filter=Q(is_clarified=True)))
    context = {
        "total": counts["total"],
        "clarified": counts["clarified"],
        "outstanding": counts["total"] - counts["clarified"],
        "recent": cases.order_by("-published_at", "-pk")[:5],
    }
    return render(request, "public/home.html", context)


class CaseListView(ListView):
    template_name = "public/case_list.html"
    context_object_name = "cases"
    paginate_by = 25
    http_method_names = ["get", "head"]

    def get_queryset(self):
        return PublishedVersion.objects.current().order_by("case_id")


@require_safe
@never_cache
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        PublishedVersion.objects.exists()
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")
