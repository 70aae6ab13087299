"""The registry's answers to what certification tells it (``certification.signals``)."""

from django.dispatch import receiver

from isocert.certification.signals import certificate_changed, daily_run_done

from .directory import forget_searches
from .jobs import fail_stale_registry_jobs


@receiver(daily_run_done, dispatch_uid="registry.fail_stale_jobs")
def fail_stale_jobs_daily(sender, **kwargs) -> dict:
    """The daily run also fails imports and exports whose task worker died."""
    return {"registry_jobs_failed": fail_stale_registry_jobs()}


@receiver(certificate_changed, dispatch_uid="registry.forget_directory_searches")
def forget_directory_searches(sender, **kwargs) -> None:
    """A status or the confidentiality changed: cached counts and ranked ids of directory
    searches may be wrong, in this process and (with Redis) in every other."""
    forget_searches()
