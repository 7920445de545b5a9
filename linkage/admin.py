from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from security.admin import ReadOnlyAdmin

from .models import CandidatePair


@admin.register(CandidatePair)
class CandidatePairAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    """Read-only: decisions are made in the review queue (/staff/duplicates/); the history shows who made each
    and why."""

    list_display = ["first", "second", "score", "decision", "decided_by", "decided_at"]
    list_filter = ["decision", "blocked_on"]
    list_select_related = ["first", "second", "decided_by"]
    search_fields = ["first__case_id", "second__case_id"]
    ordering = ["-score"]
