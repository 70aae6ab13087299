"""The certification API: decisions and certificate lifecycle (CB staff and clients)."""

from ninja import Router

from .api_editions import router as editions_router
from .api_staff import router as staff_router

router = Router()
router.add_router("/", staff_router)
router.add_router("/", editions_router)
