from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, include, path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from public.preview import publication_preview

admin.site.site_header = "Whereabouts"
admin.site.site_title = _("Whereabouts staff")
admin.site.index_title = _("Cases, sources and people")

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("staff/sources/", include("sources.urls")),
    path("staff/archive/", include("archive.urls")),
    path("staff/import/", include("exchange.urls")),
    path("staff/appeals/", include("advocacy.urls")),
    path("staff/duplicates/", include("linkage.urls")),
    path("staff/cases/<str:case_id>/preview/", publication_preview, name="publication_preview"),
    path("staff/", include("security.urls")),
    path("staff/", include("workflow.urls")),
    # The public site in every language: English at its own addresses, which never change; Korean
    # under /ko/, Japanese under /ja/. Staff pages follow the account's language instead
    # (security.middleware.StaffLanguageMiddleware).
    *i18n_patterns(path("", include("public.urls")), prefix_default_language=False),
]


@require_safe
def bare(request):
    """A fixed string through the full middleware: the yardstick of make bench."""
    return HttpResponse("ok\n", content_type="text/plain")


if settings.BENCHMARK_VIEW:
    urlpatterns.insert(0, path("bench/bare", bare))
