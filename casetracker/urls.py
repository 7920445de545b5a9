from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Whereabouts"
admin.site.site_title = "Whereabouts staff"
admin.site.index_title = "Cases, sources and people"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("staff/sources/", include("sources.urls")),
    path("staff/import/", include("exchange.urls")),
    path("staff/", include("security.urls")),
    path("staff/", include("workflow.urls")),
    path("", include("public.urls")),
]
