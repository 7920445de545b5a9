from django.urls import path

from . import views

app_name = "exchange"

urlpatterns = [
    path("", views.upload, name="import"),
    path("confirm/", views.confirm, name="confirm"),
]
