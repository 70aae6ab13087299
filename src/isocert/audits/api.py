"""The audits API: the programme (cycles, teams, plans) and the conduct (findings,
corrective actions, reports)."""

from ninja import Router

from .api_conduct import router as conduct_router
from .api_programme import router as programme_router

router = Router()
router.add_router("/", programme_router)
router.add_router("/", conduct_router)
