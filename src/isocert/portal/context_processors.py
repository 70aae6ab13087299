"""What every page's navigation needs to know about the user."""

from django.conf import settings

from isocert.accounts.permissions import STAFF_CAPABILITIES


def portal(request):
    """The CB's name and the staff capabilities the user holds (``accounts.permissions``):
    the menu shows each link to whoever may use the page."""
    user = getattr(request, "user", None)
    roles = set()
    if user is not None and user.is_authenticated:
        roles = user.staff_roles_set
    return {
        "CB_NAME": settings.CB_NAME,
        "staff_capabilities": {capability for capability, holders in STAFF_CAPABILITIES.items()
                               if holders & roles},
        "is_cb_staff": bool(roles),
    }
