"""The REST API under /api/v1/, assembled from each app's router.

Assembling the house is the shell's work: only the root URLconf imports it."""

import typing

import pydantic
from ninja import NinjaAPI, Swagger
from ninja.openapi.schema import REF_TEMPLATE, OpenAPISchema
from ninja.schema import NinjaGenerateJsonSchema

from isocert.accounts.api import router as accounts_router
from isocert.accounts.api_auth import PortalSessionAuth, TokenAuth
from isocert.audits.api import router as audits_router
from isocert.catalog.api import router as catalog_router
from isocert.certification.api import router as certification_router
from isocert.complaints.api import router as complaints_router
from isocert.complaints.api_appeals import router as appeals_router
from isocert.core.api import ErrorOut, install_error_handlers, install_input_checks
from isocert.energy.api import router as energy_router
from isocert.impartiality.api import router as impartiality_router
from isocert.improvement.api import router as improvement_router
from isocert.readiness.api import router as readiness_router
from isocert.registration.api import router as registration_router
from isocert.registry.api import router as registry_router

from .audit_api import router as audit_router

# What each error status means here; the body is always ``ErrorOut``.
ERROR_DESCRIPTIONS = {
    400: "Bad request: a body that cannot be read (malformed JSON, multipart without a "
         "boundary) or a rule of the domain refused it (`bad_request`, `domain_error`).",
    401: "Not logged in and no valid personal access token (`unauthenticated`).",
    403: "Not allowed: the caller's role may not do this, or CB staff without their "
         "second factor (`forbidden`).",
    404: "Not found, or not yours: objects of other organizations, and areas for CB staff "
         "only, answer the same (`not_found`).",
    409: "The object's state does not allow this now, or someone changed it first "
         "(`invalid_transition`, `conflict`).",
    413: "The request body is larger than the limit (`too_large`).",
    422: "A value is missing or not valid; `fields` names each one (`invalid`).",
    429: "Too many requests from this address (`rate_limited`).",
}
READ_METHODS = {"GET", "HEAD", "OPTIONS"}
BODY_SOURCES = {"body", "form", "file"}


def error_statuses(operation) -> set[int]:
    """The error statuses an operation can answer, from what it takes and who may call it.

    Authentication answers 401 and 403 (staff without the second factor are refused
    everywhere); an id in the path or the input (``org_id``, ``site_ids``) 404 (missing or
    not yours, house style); any input 422
    (validation, also numbers out of the database's range); a body 400 (unreadable) and
    413 (too large); a write 400, 409 and 422 (``DomainError`` and its subclasses in
    ``core.errors``: a refused rule, a state that does not allow the transition, a stale
    version); a throttle 429. Operations that declare an error status themselves keep
    their own description.
    """
    sources = {model.__ninja_param_source__ for model in operation.models}
    statuses = set()
    if operation.auth_callbacks:
        statuses |= {401, 403}
        if not set(operation.methods) <= READ_METHODS:
            statuses |= {400, 409, 422}
    if "path" in sources or any(_names_an_object(model) for model in operation.models):
        statuses.add(404)
    if sources:
        statuses.add(422)
    if sources & BODY_SOURCES:
        statuses |= {400, 413}
    if operation.throttle_objects:
        statuses.add(429)
    return statuses


def _names_an_object(model: type[pydantic.BaseModel]) -> bool:
    """Whether a parameter or body model has a field naming an object by id (``*_id``,
    ``*_ids``), at any depth."""
    for name, field in model.model_fields.items():
        if name.endswith(("_id", "_ids")):
            return True
        for annotation in (field.annotation, *typing.get_args(field.annotation)):
            if (isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel)
                    and _names_an_object(annotation)):
                return True
    return False


class ErrorDocumentingSchema(OpenAPISchema):
    """ninja's document plus each operation's error responses in the one error shape."""

    def responses(self, operation):
        result = super().responses(operation)
        missing = error_statuses(operation) - set(result)
        if missing and "ErrorOut" not in self.schemas:
            schema = ErrorOut.model_json_schema(ref_template=REF_TEMPLATE, mode="serialization",
                                                schema_generator=NinjaGenerateJsonSchema)
            self.add_schema_definitions({**schema.pop("$defs", {}), "ErrorOut": schema})
        for status in sorted(missing):
            result[status] = {"description": ERROR_DESCRIPTIONS[status], "content": {
                self.api.renderer.media_type: {
                    "schema": {"$ref": REF_TEMPLATE.format(model="ErrorOut")}}}}
        for status, model in operation.response_models.items():
            # Declared with ``ErrorOut`` in the decorator: ninja's description is the bare
            # reason phrase ("Not Found"); say what it means here.
            if model is not None and status in ERROR_DESCRIPTIONS and status in result:
                result[status]["description"] = ERROR_DESCRIPTIONS[status]
        return dict(sorted(result.items()))


class PortalAPI(NinjaAPI):
    """The portal's NinjaAPI: its OpenAPI document lists the error responses too."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        return ErrorDocumentingSchema(self, path_prefix)


api = PortalAPI(
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
api.add_router("/", registry_router)
api.add_router("/", energy_router)
api.add_router("/", complaints_router)
api.add_router("/", appeals_router)
api.add_router("/", impartiality_router)
