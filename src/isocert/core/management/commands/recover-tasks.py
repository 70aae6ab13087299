"""``isocert recover-tasks``: tasks a dead task worker left "running" are queued again or
failed with the reason (core/worker.py). Run daily by the timer; every worker also runs it
when it starts."""

from django.core.management.base import BaseCommand

from isocert.core.worker import recover_lost_tasks


class Command(BaseCommand):
    help = ('Queue again, or fail with the reason, the tasks a dead worker left "running".')

    def handle(self, **options):
        recovery = recover_lost_tasks()
        self.stdout.write(f"Tasks of dead workers: {len(recovery.retried)} queued again, "
                          f"{len(recovery.failed)} failed.")
        for task_id in recovery.retried:
            self.stdout.write(f"  queued again: {task_id}")
        for task_id in recovery.failed:
            self.stdout.write(f"  failed: {task_id}")
