from django.urls import path
from django.views.decorators.http import require_safe

from . import api, data, export, facilities, feeds, openapi, statistics, views
from .caching import public_page
from .queries import follows_merges

app_name = "public"

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/<str:case_id>/", views.case_detail, name="case_detail"),
    path("cases/<str:case_id>/versions/<int:number>/", views.case_version, name="case_version"),
    path(
        "cases/<str:case_id>/feed/",
        feeds.readable_in_browsers(require_safe(follows_merges("public:case_feed")(public_page(feeds.CaseFeed())))),
        name="case_feed",
    ),
    path("sources/", views.source_list, name="source_list"),
    path("sources/<int:source_id>/", views.source_detail, name="source_detail"),
    path("sources/<int:source_id>/archived-copy/<int:capture_id>", views.source_copy, name="source_copy"),
    path("facilities/", facilities.facility_list, name="facility_list"),
    path("facilities/<int:facility_id>/", facilities.facility_detail, name="facility_detail"),
    path("feed/", feeds.readable_in_browsers(require_safe(public_page(feeds.PublishedChangesFeed()))), name="feed"),
    path("feed.xsl", feeds.feed_stylesheet, name="feed_stylesheet"),
    path("api/", openapi.api_page, name="api_page"),
    path("api/openapi.json", openapi.api_description, name="api_description"),
    path("api/cases/", api.api_case_list, name="api_case_list"),
    path("api/cases/<str:case_id>/", api.api_case_detail, name="api_case_detail"),
    path("export/cases.csv", export.export_csv, name="export_csv"),
    path("export/events.csv", export.export_events_csv, name="events_csv"),
    path("statistics/", statistics.statistics_page, name="statistics"),
    path("statistics/<slug:chart>.csv", statistics.chart_csv, name="statistics_csv"),
    path("statistics/<slug:chart>.json", statistics.chart_json, name="statistics_json"),
    path("api/statistics/", statistics.api_statistics, name="api_statistics"),
    path("data/", data.data_releases, name="data_releases"),
    path("data/latest/<str:filename>", data.data_release_latest, name="data_release_latest"),
    path("data/<int:number>/<str:filename>", data.data_release_file, name="data_release_file"),
    path("about/", views.about, name="about"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", views.healthz, name="healthz"),
]
