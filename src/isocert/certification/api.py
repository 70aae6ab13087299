"""The certification API: decisions and certificate lifecycle (CB staff and clients)."""

from ninja import Router

from .api_staff import router as staff_router

router = Router()
router.add_router("/", staff_router)
