"""The audits API: the programme (cycles, teams, plans) and the conduct (findings,
corrective actions, reports)."""

from ninja import Router

from .conduct.api import router as conduct_router
from .programme.api import router as programme_router

router = Router()
router.add_router("/", programme_router)
router.add_router("/", conduct_router)
