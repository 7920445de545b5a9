from django.urls import path

from . import views

app_name = "archive"

urlpatterns = [
    path("captures/<int:pk>/<str:part>", views.download, name="download"),
    path("sources/<int:source_pk>/capture", views.capture_now, name="capture_now"),
]
