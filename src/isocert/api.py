"""The REST API under /api/v1/, assembled from each app's router."""

from ninja import NinjaAPI, Swagger

from isocert.accounts.api import router as accounts_router
from isocert.audits.api import router as audits_router
from isocert.catalog.api import router as catalog_router
from isocert.certification.api import router as certification_router
from isocert.core.api import (
    PortalSessionAuth,
    TokenAuth,
    install_error_handlers,
    install_input_checks,
)
from isocert.core.audit_api import router as audit_router
from isocert.energy.api import router as energy_router
from isocert.improvement.api import router as improvement_router
from isocert.readiness.api import router as readiness_router
from isocert.registration.api import router as registration_router

api = NinjaAPI(
    title="isocert API",
    version="1",
    description=(
        "The certification body portal's API. Authenticate with the browser session "
        "(send the CSRF token on writes) or a personal access token created on the "
        "*API tokens* page: `Authorization: Bearer isc_...`. "
        "Every error has the shape `{\"error\": {\"code\", \"message\", \"fields\"}}`; "
        "objects of other organizations answer 404. State changes are POST "
        "sub-resources, e.g. `POST /api/v1/applications/{id}/submit`."
    ),
    auth=[TokenAuth(), PortalSessionAuth()],
    urls_namespace="api",
    docs_url="/docs",
    # No "valid" badge: Swagger UI would send the document's address to the online
    # validator (a third party) and load its image, which the CSP refuses.
    docs=Swagger(settings={"validatorUrl": None}),
    openapi_url="/openapi.json",
)
install_error_handlers(api)
install_input_checks(api)
api.add_router("/", catalog_router)
api.add_router("/", accounts_router)
api.add_router("/", registration_router)
api.add_router("/", audit_router)
api.add_router("/", readiness_router)
api.add_router("/", improvement_router)
api.add_router("/", audits_router)
api.add_router("/", certification_router)
api.add_router("/", energy_router)
