"""What improvement adds to the pages of apps below it (see ``registration.signals``)."""

from django.dispatch import receiver
from django.template.loader import render_to_string

from isocert.registration.signals import review_page_panels

from .stage1 import shared_readiness_for_application


@receiver(review_page_panels, dispatch_uid="improvement.shared_readiness")
def shared_readiness_panel(sender, *, application, request, **kwargs) -> str:
    """The CB's review page shows the stage-1 readiness the client shared for its standards."""
    return render_to_string("improvement/_shared_readiness.html", {
        "shared_readiness": shared_readiness_for_application(user=request.user,
                                                             application=application),
    }, request=request)
