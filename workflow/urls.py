from django.urls import path

from . import merge_views, views

app_name = "workflow"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("merges/", merge_views.merge_list, name="merge_list"),
    path("merges/pairs/<int:pair_id>/", merge_views.merge_pair, name="merge_pair"),
    path("merges/<int:pk>/undo/", merge_views.merge_undo, name="merge_undo"),
]
