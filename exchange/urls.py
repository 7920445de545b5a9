from django.urls import path

from . import views

app_name = "exchange"

urlpatterns = [
    path("", views.upload, name="import"),
    path("confirm/", views.confirm, name="confirm"),
    path("template.csv", views.template_csv, name="template_csv"),
    path("example.csv", views.example_csv, name="example_csv"),
]
