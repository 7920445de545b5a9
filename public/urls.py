from django.urls import path

from . import views

app_name = "public"

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.CaseListView.as_view(), name="case_list"),
    path("healthz", views.healthz, name="healthz"),
]
