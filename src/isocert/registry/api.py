"""The registry API: public verification and directory (no log-in), and the CertSearch
import and export (CB staff)."""

from ninja import Router

from .api_public import router as public_router
from .api_registry import router as registry_router

router = Router()
router.add_router("/", public_router)
router.add_router("/", registry_router)
