"""The certification API: decisions and certificate lifecycle (CB staff and clients), the
public verification and directory, and the registry's import and export."""

from ninja import Router

from .api_public import router as public_router
from .api_registry import router as registry_router
from .api_staff import router as staff_router

router = Router()
router.add_router("/", public_router)
router.add_router("/", staff_router)
router.add_router("/", registry_router)
