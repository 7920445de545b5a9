"""The worker: runs the queue's tasks (captures, link checks), and keeps the hourly link-check round going.

It is django-tasks' own ``db_worker`` (same options: ``--batch`` to stop when
the queue is empty, ``--interval``, ``--max-tasks``), started after two
chores: jobs left running by a worker that stopped are queued again, and the
link-check round is put on the queue if it is not there.
"""

from django_tasks_db.management.commands.db_worker import Command as DBWorkerCommand

from archive.jobs import interrupted_after, recover_interrupted, round_waiting, schedule_link_checks


class Command(DBWorkerCommand):
    help = "Run the archiving worker: capture sources' pages and check their links (make worker)."

    def handle(self, *args, **options) -> None:
        recovered = recover_interrupted(interrupted_after())
        if recovered:
            self.stdout.write(f"Queued again {recovered} job(s) left running by a worker that stopped.")
        if not round_waiting():
            schedule_link_checks.enqueue()
        super().handle(*args, **options)
