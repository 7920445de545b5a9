"""The full pass on the worker's queue (archive_worker runs it): after an import, whose bulk writes send no signals."""

from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from .matching import full_pass


@task()
def find_all_pairs() -> list[int]:
    created, updated = full_pass()
    return [created, updated]


def request_full_pass() -> None:
    """Put a full pass on the queue, unless one is already waiting there."""
    waiting = DBTaskResult.objects.filter(task_path=find_all_pairs.module_path, status=TaskResultStatus.READY)
    if not waiting.exists():
        find_all_pairs.enqueue()
