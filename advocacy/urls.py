from django.urls import path

from . import export, views

app_name = "advocacy"

urlpatterns = [
    # A printable WGEID submission for one person of an appeal, pre-filled from the case.
    path("<int:pk>/wgeid/<int:person_pk>/", views.wgeid_submission, name="wgeid_submission"),
    # Every appeal the user may read, as a spreadsheet (CSV).
    path("appeals.csv", export.appeals_csv, name="appeals_csv"),
]
