from django.urls import path

from . import views

app_name = "security"

urlpatterns = [
    path("2fa/", views.two_factor, name="two_factor"),
    path("language/", views.language, name="language"),
]
