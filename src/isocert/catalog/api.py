"""Public catalog: standards with their clause trees, IAF sectors, countries; audit time."""

from django.http import Http404
from ninja import Field, Router, Schema
from ninja.throttling import AnonRateThrottle

from isocert.core.api import ErrorOut
from isocert.core.client_address import client_address
from isocert.core.errors import InvalidInput

from . import selectors
from .audittime import AuditTimeInputError, load_audit_time_json

router = Router(tags=["catalog"])


class StandardOut(Schema):
    code: str
    edition: str
    title: str
    clause_count: int


class ClauseOut(Schema):
    number: str
    title: str
    guidance: str
    group: str
    depth: int
    parent: str | None


class StandardDetailOut(StandardOut):
    clauses: list[ClauseOut]


class SectorOut(Schema):
    code: int
    name: str


class CountryOut(Schema):
    code: str
    name: str


def _standard_out(standard, clauses=None) -> dict:
    data = {"code": standard.code, "edition": standard.edition, "title": standard.title,
            "clause_count": standard.clause_count}
    if clauses is not None:
        data["clauses"] = [
            {"number": c.number, "title": c.title, "guidance": c.guidance, "group": c.group,
             "depth": c.depth, "parent": c.parent.number if c.parent_id else None}
            for c in clauses
        ]
    return data


@router.get("/catalog/standards", response=list[StandardOut], auth=None,
            summary="Standards the CB certifies")
def list_standards(request):
    return [_standard_out(s) for s in selectors.standards_with_counts()]


@router.get("/catalog/standards/{path:code}", response=StandardDetailOut, auth=None,
            summary="One standard with its clauses",
            description="`code` as in the list, with `/` and spaces allowed URL-encoded "
                        "(e.g. `ISO%2FIEC%2027001`), or the slug `iso-iec-27001`.")
def get_standard(request, code: str):
    standard = selectors.standard_by_code_or_slug(code)
    if standard is None:
        raise Http404
    return _standard_out(standard, selectors.clauses_of(standard))


@router.get("/catalog/sectors", response=list[SectorOut], auth=None, summary="IAF sector codes")
def list_sectors(request):
    return list(selectors.sectors_all())


@router.get("/catalog/countries", response=list[CountryOut], auth=None,
            summary="Countries (ISO 3166-1)")
def list_countries(request):
    return list(selectors.countries_all())


# --- audit time ---------------------------------------------------------------------------------

class ClientAddressThrottle(AnonRateThrottle):
    """Per client address, kept in the database cache that every server process shares.

    The address is ``core.client_address``'s (django-ninja's own would trust a client's
    ``X-Forwarded-For`` without trusted proxies, letting anyone dodge the limit).
    """

    def get_ident(self, request):
        return client_address(request)


# Tests lower ``num_requests`` on this object.
AUDIT_TIME_THROTTLE = ClientAddressThrottle("30/m")


class AuditTimeEstimateStandardOut(Schema):
    code: str = Field(description='Canonical code, e.g. "ISO/IEC 27001".')
    complexity: str | None = Field(
        None, description="ISO 14001/45001: the category given; ISO 50001: the category "
                          "computed from the energy data (ISO 50003). Absent otherwise.")
    complexity_score: float | None = Field(
        None, description="ISO 50001 only: C = 0.25 F_EC + 0.25 F_ET + 0.5 F_SEU.")
    table_days: float | None = Field(
        description="Days from the table for the effective personnel; null for ISO 50001 "
                    "while the CB's ISO 50003 table is not configured.")
    adjusted_days: float | None = Field(description="table_days after the net adjustment.")


class AuditTimeSitesToVisitOut(Schema):
    initial: int
    surveillance: int
    recertification: int
    central_function: bool = Field(description="The central function is visited every time.")


class AuditTimeEstimateOut(Schema):
    standards: list[AuditTimeEstimateStandardOut] = Field(
        description="One entry per standard, in the order 9001, 14001, 45001, 27001, 50001.")
    net_adjustment_percent: float = Field(
        description="Sum of the adjustments, reductions capped by IAF MD 5.")
    integration_reduction_percent: float = Field(
        description="The IAF MD 11 reduction actually applied (0 for one standard).")
    initial_days: float | None = Field(
        description="Stage 1 + stage 2, rounded to the nearest half day; null when no "
                    "standard's days are known.")
    stage1_days: float | None
    stage2_days: float | None
    surveillance_days: float | None = Field(description="Per surveillance audit (yearly).")
    recertification_days: float | None
    min_onsite_days: float | None = Field(
        description="Minimum on-site part of the initial time: not less than 80 % of it "
                    "(IAF MD 5 / IAF MD 11), so initial days x 0.8 rounded up to the next "
                    "half day (4 -> 3.5, 9 -> 7.5).")
    sites_to_visit: AuditTimeSitesToVisitOut | None = Field(
        None, description="Sites to visit besides the central function (IAF MD 1); present "
                          "only when `sites` was given.")
    needs_configuration: list[str] = Field(
        description="What the CB must configure before all days can be given (the ISO 50003 "
                    "table); empty when the result is complete.")
    explanation: list[str] = Field(description="Step by step, each sentence naming its rule.")


_NUMBER_OR_TEXT = {"oneOf": [{"type": "number"}, {"type": "string"}]}
AUDIT_TIME_EXAMPLE = {
    "standards": [
        {"code": "ISO 9001", "effective_personnel": 30},
        {"code": "ISO 14001", "effective_personnel": 30, "complexity": "medium"},
        {"code": "ISO 50001", "effective_personnel": 24, "annual_energy_consumption_tj": 310,
         "energy_types": 3, "significant_energy_uses": 5},
    ],
    "adjustments": [{"reason": "mature, well-documented system", "percent": -10}],
    "integration_reduction_percent": 10,
    "sites": {"count": 4, "sampling_allowed": True},
}
AUDIT_TIME_REQUEST_SCHEMA = {
    "type": "object",
    "required": ["standards"],
    "additionalProperties": False,
    "properties": {
        "standards": {
            "type": "array", "minItems": 1,
            "description": "The standards to certify, each at most once.",
            "items": {
                "type": "object", "required": ["code", "effective_personnel"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "description": 'One of "ISO 9001", "ISO 14001", '
                             '"ISO 45001", "ISO/IEC 27001" (or "ISO 27001"), "ISO 50001".'},
                    "effective_personnel": {
                        **_NUMBER_OR_TEXT, "description": "Effective personnel under this "
                        "management system (full-time equivalents, at least 1)."},
                    "complexity": {
                        "type": "string", "description": "Required for ISO 14001 (high, medium, "
                        "low, limited) and ISO 45001 (high, medium, low); not allowed for the "
                        "others (ISO 50001's is computed)."},
                    "part_time": {
                        "type": "array", "description": "Part-time staff, counted by hours "
                        "worked against an 8-hour day and added to effective_personnel.",
                        "items": {"type": "object", "required": ["headcount", "hours_per_day"],
                                  "properties": {
                                      "headcount": {"type": "integer", "minimum": 1},
                                      "hours_per_day": {**_NUMBER_OR_TEXT,
                                                        "description": "More than 0, at most 24."},
                                  }}},
                    "annual_energy_consumption_tj": {
                        **_NUMBER_OR_TEXT, "description": "ISO 50001 only, required: annual "
                        "energy consumption in terajoules (more than 0)."},
                    "energy_types": {"type": "integer", "minimum": 1, "description":
                                     "ISO 50001 only, required: number of energy types."},
                    "significant_energy_uses": {
                        "type": "integer", "minimum": 1, "description": "ISO 50001 only, "
                        "required: number of significant energy uses (SEUs)."},
                },
            },
        },
        "adjustments": {
            "type": "array", "description": "IAF MD 5 adjustments for the whole organization.",
            "items": {"type": "object", "required": ["reason", "percent"],
                      "properties": {
                          "reason": {"type": "string", "description": "Why the time changes."},
                          "percent": {**_NUMBER_OR_TEXT, "description": "Signed, e.g. -10."},
                      }}},
        "integration_reduction_percent": {
            **_NUMBER_OR_TEXT, "description": "IAF MD 11 reduction for an integrated "
            "management system, 0 to 20; only with two or more standards."},
        "sites": {
            "type": "object", "required": ["count", "sampling_allowed"],
            "description": "Multi-site organizations (IAF MD 1).",
            "properties": {
                "count": {"type": "integer", "minimum": 0,
                          "description": "Sites besides the central function."},
                "sampling_allowed": {"type": "boolean",
                                     "description": "Whether IAF MD 1 sampling applies."},
            }},
    },
}


@router.post(
    "/audit-time", auth=None, throttle=[AUDIT_TIME_THROTTLE], exclude_unset=True,
    response={200: AuditTimeEstimateOut, 413: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    tags=["audit time"], summary="Estimate audit time",
    description=(
        "Computes initial (stage 1 + stage 2), surveillance and recertification audit days "
        "with IAF MD 5, ISO/IEC 27006, ISO 50003, IAF MD 11 and IAF MD 1, exactly as "
        "`isocert audit-time --json` does, with the certification body's stage 1 share and "
        "ISO 50003 day table. Public, rate-limited per client (429 `rate_limited`). Input the "
        "engine refuses, malformed JSON included, answers 422 `invalid` with `fields` naming "
        "the field, e.g. `standards.0.complexity` or `json`. An estimate: the CB fixes the "
        "audit time at application review."),
    openapi_extra={"requestBody": {
        "required": True,
        "content": {"application/json": {"schema": AUDIT_TIME_REQUEST_SCHEMA,
                                          "example": AUDIT_TIME_EXAMPLE}},
    }},
)
def audit_time_estimate(request):
    # The raw body goes to the engine's own parser, so errors carry the engine's field names
    # and decimals stay exact. A body past the size limit is the API's 413 (core.api).
    try:
        data = load_audit_time_json(request.body)
    except AuditTimeInputError as exc:
        raise InvalidInput(str(exc), fields={exc.field: exc.message})
    except RecursionError:
        raise InvalidInput("json: nested too deeply", fields={"json": "nested too deeply"})
    return selectors.estimate_audit_time(data)
