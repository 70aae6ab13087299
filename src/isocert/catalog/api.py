"""Public catalog: standards with their clause trees, IAF sectors, countries."""

from django.http import Http404
from ninja import Router, Schema

from . import selectors

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
