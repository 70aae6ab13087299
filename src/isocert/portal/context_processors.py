from django.conf import settings


def portal(request):
    user = getattr(request, "user", None)
    roles = set()
    if user is not None and user.is_authenticated:
        roles = user.staff_roles_set
    return {
        "CB_NAME": settings.CB_NAME,
        "staff_roles": roles,
        "is_cb_staff": bool(roles),
    }
