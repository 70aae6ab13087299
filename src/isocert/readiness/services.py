"""Every write on gap analyses, energy-review facts and readiness sharing.

A gap assessment is *open* while people work on it and *frozen* once it is a
snapshot: frozen versions are read-only, and a new version starts as a copy of
the latest one. Rows are saved with optimistic concurrency: the caller sends
the ``version`` it read, and a stale one is refused with nothing overwritten.
Owners and editors write; only owners share readiness with the CB.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import urlparse

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from isocert.accounts.models import Membership, Organization, User
from isocert.accounts.services import ensure_can_edit, ensure_owner
from isocert.catalog import selectors as catalog_selectors
from isocert.catalog.models import Standard
from isocert.core.audit import record_event
from isocert.core.errors import Conflict, InvalidInput, NotPermitted
from isocert.core.files import check_upload, store_file
from isocert.core.validation import choice_error
from isocert.core.values import UNSET, given

from .models import (
    GAP_ASSESSMENT_LIFECYCLE,
    EnergyReviewFacts,
    GapAssessment,
    GapEvidence,
    GapItem,
    ReadinessShare,
    SignificantEnergyUse,
)
from .selectors import assessment_scores

# Exact factors to terajoules (1 kWh = 3.6 MJ).
TJ_PER_UNIT = {
    EnergyReviewFacts.Unit.KWH: Decimal("0.0000036"),
    EnergyReviewFacts.Unit.MWH: Decimal("0.0036"),
    EnergyReviewFacts.Unit.GJ: Decimal("0.001"),
    EnergyReviewFacts.Unit.TJ: Decimal("1"),
}
TEXT_LIMIT = 5000
HARMONIZED_MAIN_CLAUSES = {str(n) for n in range(4, 11)}
ROW_FIELDS = ("status", "justification", "notes", "owner_id", "soa_applicable",
              "soa_justification", "soa_implementation")


def to_terajoules(amount: Decimal, unit: str) -> Decimal:
    """Convert an annual consumption to TJ exactly (no rounding)."""
    try:
        return amount * TJ_PER_UNIT[unit]
    except KeyError:
        raise InvalidInput("Choose kWh, MWh, GJ or TJ.", fields={"unit": "Unknown unit."})


# --- guards ---------------------------------------------------------------------------------

def _ensure_open(assessment: GapAssessment) -> None:
    if assessment.status != GapAssessment.Status.OPEN:
        raise Conflict(f"Version {assessment.number} of this gap analysis is frozen and "
                       "read-only; start a new version to change it.")


def _locked_assessment(assessment: GapAssessment) -> GapAssessment:
    return GapAssessment.objects.select_for_update().get(pk=assessment.pk)


def _text(value, field: str, errors: dict, limit: int = TEXT_LIMIT) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        errors[field] = f"At most {limit} characters."
    return text


def _event(actor, action: str, obj, assessment: GapAssessment, payload: dict) -> None:
    record_event(actor=actor, action=f"readiness.{action}", obj=obj,
                 organization_id=assessment.organization_id,
                 payload={"assessment": assessment.pk, "standard": str(assessment.standard),
                          "version": assessment.number, **payload})


# --- assessments ----------------------------------------------------------------------------

def _standard(value) -> Standard:
    if isinstance(value, Standard):
        return value
    code = str(value or "").strip()
    standard = Standard.objects.filter(code=code, is_current=True).first()
    if standard is None:
        raise InvalidInput(f"Unknown standard {code!r}.",
                           fields={"standard": "Choose a standard of the catalog."})
    return standard


@transaction.atomic
def start_gap_assessment(*, organization: Organization, standard, actor: User) -> GapAssessment:
    """Start version 1 of a gap analysis: one row per clause (and Annex A control) of the
    standard's current edition, which the assessment keeps even when a new edition ships."""
    ensure_can_edit(organization, actor)
    standard = _standard(standard)
    existing = (GapAssessment.objects.select_for_update()
                .filter(organization=organization, standard=standard))
    if existing.exists():
        raise Conflict(f"{organization} already has a gap analysis for {standard}; open it, or "
                       "freeze it and start a new version from it.",
                       fields={"standard": "A gap analysis exists."})
    assessment = GapAssessment.objects.create(organization=organization, standard=standard,
                                              number=1, created_by=actor)
    GapItem.objects.bulk_create(GapItem(assessment=assessment, clause=clause)
                                for clause in standard.clauses.order_by("position"))
    _event(actor, "gap_assessment.started", assessment, assessment,
           {"rows": assessment.items.count()})
    return assessment


@transaction.atomic
def freeze_gap_assessment(*, assessment: GapAssessment, actor: User) -> GapAssessment:
    """Freeze the assessment: a read-only snapshot that later versions are compared with."""
    ensure_can_edit(assessment.organization, actor)
    assessment = _locked_assessment(assessment)
    _ensure_open(assessment)
    GAP_ASSESSMENT_LIFECYCLE.apply(assessment, "freeze")
    assessment.frozen_by = actor
    assessment.frozen_at = timezone.now()
    assessment.save(update_fields=["status", "frozen_by", "frozen_at"])
    overall = assessment_scores(assessment)["overall"]
    _event(actor, "gap_assessment.frozen", assessment, assessment,
           {"score": str(overall["score"]) if overall["score"] is not None else None,
            "assessed": overall["assessed"], "rows": overall["rows"]})
    return assessment


@transaction.atomic
def start_new_version(*, assessment: GapAssessment, actor: User) -> GapAssessment:
    """Start the next version as a copy of a frozen one: answers, owners, SoA, evidence and
    energy-review facts are copied; the frozen version stays as it was."""
    ensure_can_edit(assessment.organization, actor)
    source = _locked_assessment(assessment)
    if source.status != GapAssessment.Status.FROZEN:
        raise Conflict("Freeze this version before starting a new one from it.")
    siblings = GapAssessment.objects.select_for_update().filter(
        organization_id=source.organization_id, standard_id=source.standard_id)
    if siblings.filter(status=GapAssessment.Status.OPEN).exists():
        raise Conflict("An open version of this gap analysis already exists; work on it.")
    latest = siblings.aggregate(n=Max("number"))["n"]
    if source.number != latest:
        raise Conflict(f"Start the new version from the latest version ({latest}).")
    new = GapAssessment.objects.create(organization_id=source.organization_id,
                                       standard_id=source.standard_id, number=latest + 1,
                                       previous=source, created_by=actor)
    for item in source.items.prefetch_related("evidence").order_by("clause__position"):
        copy = GapItem.objects.create(
            assessment=new, clause_id=item.clause_id,
            **{f: getattr(item, f) for f in ROW_FIELDS}, updated_by=item.updated_by)
        GapEvidence.objects.bulk_create(
            GapEvidence(item=copy, title=e.title, file_id=e.file_id,
                        original_name=e.original_name, link=e.link, added_by=e.added_by)
            for e in item.evidence.all())
    _copy_energy_facts(source, new)
    _event(actor, "gap_assessment.version_started", new, new, {"from_version": source.number})
    return new


def _copy_energy_facts(source: GapAssessment, new: GapAssessment) -> None:
    facts = EnergyReviewFacts.objects.filter(assessment=source).first()
    if facts is not None:
        uses = list(facts.significant_uses.all())
        facts.pk, facts.id, facts.assessment = None, None, new
        facts._state.adding = True
        facts.save()
        SignificantEnergyUse.objects.bulk_create(
            SignificantEnergyUse(facts=facts, name=u.name, share_percent=u.share_percent)
            for u in uses)


def _clause_key(clause) -> tuple[str, str, str]:
    return (clause.group, clause.number.strip(), " ".join(clause.title.lower().split()))


@transaction.atomic
def carry_gap_analysis(*, assessment: GapAssessment, actor: User,
                       to_standard: Standard | None = None) -> GapAssessment:
    """Carry a gap analysis on a superseded edition to the new edition (the transition the
    CB recorded, ``catalog.EditionTransition``): version 1 of the organization's gap
    analysis on the new edition, with one row per clause of it. A row whose clause has the
    same number and title in both editions gets the old answer, notes, owner, SoA entry and
    evidence; a clause new or changed in the new edition starts blank (not assessed), since
    its requirement may differ. The old analysis stays as it was.

    Refused (nothing written): someone who is not an owner or editor; an edition that is
    not superseded, or ``to_standard`` other than its new edition; an organization that
    already has a gap analysis on the new edition.
    """
    ensure_can_edit(assessment.organization, actor)
    source = _locked_assessment(assessment)
    transition = catalog_selectors.transition_from(source.standard)
    if transition is None:
        raise Conflict(f"{source.standard} is not superseded: there is no new edition to "
                       "carry this gap analysis to.",
                       fields={"standard": "Not superseded."})
    target = transition.to_standard
    if to_standard is not None and to_standard.pk != target.pk:
        raise InvalidInput(f"{source.standard} is superseded by {target}, not {to_standard}.",
                           fields={"to_standard": f"Choose {target}."})
    if GapAssessment.objects.select_for_update().filter(
            organization_id=source.organization_id, standard=target).exists():
        raise Conflict(f"{source.organization} already has a gap analysis for {target}; open "
                       "it instead.", fields={"to_standard": "A gap analysis exists."})
    new = GapAssessment.objects.create(organization_id=source.organization_id,
                                       standard=target, number=1, created_by=actor)
    old_rows = {_clause_key(item.clause): item
                for item in source.items.select_related("clause").prefetch_related("evidence")}
    copied = blank = 0
    for clause in target.clauses.order_by("position"):
        item = old_rows.get(_clause_key(clause))
        if item is None:
            GapItem.objects.create(assessment=new, clause=clause)
            blank += 1
            continue
        copy = GapItem.objects.create(assessment=new, clause=clause,
                                      **{f: getattr(item, f) for f in ROW_FIELDS},
                                      updated_by=item.updated_by)
        GapEvidence.objects.bulk_create(
            GapEvidence(item=copy, title=e.title, file_id=e.file_id,
                        original_name=e.original_name, link=e.link, added_by=e.added_by)
            for e in item.evidence.all())
        copied += 1
    _copy_energy_facts(source, new)
    _event(actor, "gap_assessment.carried_to_new_edition", new, new, {
        "from_assessment": source.pk, "from_standard": str(source.standard),
        "from_version": source.number, "copied": copied, "blank": blank,
        "transition_deadline": transition.deadline.isoformat()})
    return new


# --- rows -----------------------------------------------------------------------------------

def _owner_id(organization_id: int, value, errors: dict):
    if value in (None, ""):
        return None
    try:
        owner_id = int(value)
    except (TypeError, ValueError):
        errors["owner_id"] = "Choose a member of the organization."
        return None
    if not Membership.objects.filter(organization_id=organization_id, user_id=owner_id).exists():
        errors["owner_id"] = "The owner must be a member of the organization."
        return None
    return owner_id


def _clean_row(item: GapItem, data: dict) -> dict:
    """The row's new values: only the keys given change; the rules apply to the result."""
    errors: dict[str, str] = {}
    values = {f: getattr(item, f) for f in ROW_FIELDS}
    if "status" in data:
        status = str(data["status"] or "")
        if status not in GapItem.Status.values:
            errors["status"] = choice_error(GapItem.Status, what="the status")
        values["status"] = status
    for name in ("justification", "notes", "soa_justification"):
        if name in data:
            values[name] = _text(data[name], name, errors)
    if "owner_id" in data:
        values["owner_id"] = _owner_id(item.assessment.organization_id, data["owner_id"], errors)
    soa_keys = {"soa_applicable", "soa_justification", "soa_implementation"} & set(data)
    is_control = item.clause.group == "annex_a"
    if soa_keys and not is_control and any(data[k] not in (None, "") for k in soa_keys):
        message = "The Statement of Applicability covers ISO/IEC 27001 Annex A controls only."
        raise InvalidInput(message, fields=dict.fromkeys(soa_keys, message))
    if is_control:
        if "soa_applicable" in data:
            values["soa_applicable"] = (None if data["soa_applicable"] in (None, "")
                                        else bool(data["soa_applicable"]))
        if "soa_implementation" in data:
            implementation = str(data["soa_implementation"] or "")
            if implementation and implementation not in GapItem.Implementation.values:
                errors["soa_implementation"] = choice_error(GapItem.Implementation,
                                                            what="the implementation")
            values["soa_implementation"] = implementation
        if values["soa_applicable"] is not None and not values["soa_justification"]:
            errors["soa_justification"] = ("Justify why the control is "
                                           + ("included" if values["soa_applicable"]
                                              else "excluded") + " (Statement of Applicability).")
        if values["soa_applicable"] is False:
            # An excluded control is not applicable to the organization by definition.
            values["soa_implementation"] = ""
            values["status"] = GapItem.Status.NOT_APPLICABLE
            values["justification"] = values["justification"] or values["soa_justification"]
        elif values["soa_applicable"] is None and values["soa_implementation"]:
            errors["soa_implementation"] = "Decide first whether the control is applicable."
    if values["status"] == GapItem.Status.NOT_APPLICABLE and not values["justification"]:
        errors["justification"] = "Say why this clause does not apply to you."
    if errors:
        raise InvalidInput("Please correct the highlighted fields.", fields=errors)
    return values


@transaction.atomic
def update_gap_item(*, item: GapItem, expected_version: int | None, status: str = UNSET,
                    justification: str = UNSET, notes: str = UNSET, owner_id: int | None = UNSET,
                    soa_applicable: bool | None = UNSET, soa_justification: str = UNSET,
                    soa_implementation: str = UNSET, actor: User) -> GapItem:
    """Save one row's answer; refused if someone saved it since ``expected_version``.

    A row mirrored from another standard's answer stops being a mirror once its answer
    is changed here.
    """
    ensure_can_edit(item.assessment.organization, actor)
    # The row and its version (not the catalog's standard and clause, which every
    # organization's rows share: locking them made one client's save wait for another's).
    item = GapItem.objects.select_for_update(of=("self", "assessment")).select_related(
        "assessment", "assessment__standard", "clause").get(pk=item.pk)
    _ensure_open(item.assessment)
    if expected_version is None:
        raise InvalidInput("Send the version of the row you read.",
                           fields={"version": "Required."})
    if expected_version != item.version:
        who = item.updated_by.email if item.updated_by else "someone else"
        raise Conflict(f"{who} saved clause {item.clause.number} after you opened it (now "
                       f"version {item.version}); nothing was overwritten. Reload the row and "
                       "apply your changes again.", fields={"version": "Stale version."})
    values = _clean_row(item, given(
        status=status, justification=justification, notes=notes, owner_id=owner_id,
        soa_applicable=soa_applicable, soa_justification=soa_justification,
        soa_implementation=soa_implementation))
    changed = {f: v for f, v in values.items() if getattr(item, f) != v}
    if not changed:
        return item
    old_status = item.status
    for name, value in values.items():
        setattr(item, name, value)
    if {"status", "justification", "notes"} & set(changed):
        item.mirrored_from = None
    item.version += 1
    item.updated_by = actor
    item.save()
    _event(actor, "gap_item.updated", item, item.assessment,
           {"clause": item.clause.number, "changed": sorted(changed), "from": old_status,
            "to": item.status, "row_version": item.version})
    return item


@dataclass(frozen=True)
class RowConflict:
    """A row of a several-rows save that someone saved after the caller read it."""

    index: int  # its place in the ``changes`` given
    item: GapItem  # as saved now
    message: str
    fields: dict[str, str]


@dataclass(frozen=True)
class GapItemsSaved:
    """What ``update_gap_items`` did: rows saved (new version), rows whose answer was
    already the one sent (version kept), and stale rows left as someone else saved them."""

    saved: list[GapItem] = field(default_factory=list)
    unchanged: list[GapItem] = field(default_factory=list)
    conflicts: list[RowConflict] = field(default_factory=list)


@transaction.atomic
def update_gap_items(*, assessment: GapAssessment, changes: Sequence[Mapping],
                     actor: User) -> GapItemsSaved:
    """Save several rows of one gap analysis at once: ``changes`` lists one mapping per
    row, ``{"id", "version", and any of status, justification, notes, owner_id,
    soa_applicable, soa_justification, soa_implementation}``.

    Every row is checked first. A row with an invalid field refuses the whole save:
    nothing is written and the ``InvalidInput`` names each field as
    ``items.<index>.<field>`` (so does a row that is not this analysis's, or is listed
    twice, or lacks its version). Then each row is saved by ``update_gap_item`` (same
    rules, same audit event, a row whose answer is already the one sent keeps its
    version); a row someone saved since the ``version`` sent is not saved but reported
    as a conflict with what is saved now, and the other rows are saved all the same, in
    this one transaction. A frozen analysis or an actor who may not edit: refused whole.
    """
    ensure_can_edit(assessment.organization, actor)
    assessment = _locked_assessment(assessment)
    _ensure_open(assessment)
    ids = [change.get("id") for change in changes]
    # Locks the rows only, not the catalog's clauses other organizations' rows share.
    rows = GapItem.objects.select_for_update(of=("self",)).select_related(
        "assessment", "clause").filter(assessment=assessment,
                                       pk__in=[i for i in ids if isinstance(i, int)])
    items = {item.pk: item for item in rows.order_by("pk")}
    errors: dict[str, str] = {}
    invalid, seen = [], set()
    for index, change in enumerate(changes):
        key = f"items.{index}"
        item = items.get(change.get("id"))
        if item is None:
            errors[f"{key}.id"] = "Not a row of this gap analysis."
            continue
        if item.pk in seen:
            errors[f"{key}.id"] = f"Clause {item.clause.number} is listed twice."
            continue
        seen.add(item.pk)
        if change.get("version") is None:
            errors[f"{key}.version"] = "Send the version of the row you read."
            continue
        if change["version"] != item.version:
            continue  # a conflict: update_gap_item refuses it below, its input unapplied
        try:
            _clean_row(item, {f: change[f] for f in ROW_FIELDS if f in change})
        except InvalidInput as exc:
            errors.update({f"{key}.{name}": message for name, message in exc.fields.items()})
            invalid.append(item.clause.number)
    if errors:
        raise InvalidInput("Nothing was saved: correct " + (
            "clause " + ", ".join(invalid) if invalid else "the rows named") + ".",
            fields=errors)
    result = GapItemsSaved()
    for index, change in enumerate(changes):
        item = items[change["id"]]
        try:
            saved = update_gap_item(item=item, expected_version=change["version"],
                                    actor=actor,
                                    **{f: change[f] for f in ROW_FIELDS if f in change})
        except Conflict as exc:
            result.conflicts.append(RowConflict(
                index=index, item=GapItem.objects.select_related("clause").get(pk=item.pk),
                message=exc.message, fields=exc.fields))
            continue
        (result.saved if saved.version != change["version"] else result.unchanged).append(saved)
    return result


def _link(value: str) -> str:
    link = (value or "").strip()
    if not link:
        return ""
    parsed = urlparse(link)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(link) > 500:
        raise InvalidInput("Give a web address starting with https:// or http://.",
                           fields={"link": "Not a valid web address."})
    return link


@transaction.atomic
def add_gap_evidence(*, item: GapItem, actor: User, title: str = "", upload=None,
                     link: str = "") -> GapEvidence:
    """Attach a file (checked by content, stored by hash) or a link to a row."""
    ensure_can_edit(item.assessment.organization, actor)
    assessment = _locked_assessment(item.assessment)
    _ensure_open(assessment)
    link = _link(link)
    if upload is None and not link:
        raise InvalidInput("Upload a file or give a link.",
                           fields={"file": "A file or a link is required."})
    if upload is not None and link:
        raise InvalidInput("Give either a file or a link, not both.",
                           fields={"link": "Leave empty when uploading a file."})
    stored, name = None, ""
    if upload is not None:
        stored = store_file(check_upload(upload))
        name = (getattr(upload, "name", "") or "evidence").rsplit("/", 1)[-1][:255]
    title = (title or "").strip()[:200] or name or link[:200]
    evidence = GapEvidence.objects.create(item=item, title=title, file=stored,
                                          original_name=name, link=link, added_by=actor)
    _event(actor, "gap_evidence.added", evidence, assessment, {
        "clause": item.clause.number, "title": title, "link": link,
        "sha256": stored.sha256 if stored else None})
    return evidence


@transaction.atomic
def remove_gap_evidence(*, evidence: GapEvidence, actor: User) -> None:
    item = evidence.item
    ensure_can_edit(item.assessment.organization, actor)
    assessment = _locked_assessment(item.assessment)
    _ensure_open(assessment)
    _event(actor, "gap_evidence.removed", evidence, assessment,
           {"clause": item.clause.number, "title": evidence.title})
    evidence.delete()


@transaction.atomic
def mirror_gap_item(*, item: GapItem, actor: User) -> list[GapItem]:
    """Copy a harmonized-structure answer (clauses 4–10) to the same clause number in the
    organization's other OPEN gap analyses; those rows stay editable per standard."""
    ensure_can_edit(item.assessment.organization, actor)
    # The row and its version (not the catalog's standard and clause, which every
    # organization's rows share: locking them made one client's save wait for another's).
    item = GapItem.objects.select_for_update(of=("self", "assessment")).select_related(
        "assessment", "assessment__standard", "clause").get(pk=item.pk)
    _ensure_open(item.assessment)
    if (item.clause.group != "clauses"
            or item.clause.number.split(".")[0] not in HARMONIZED_MAIN_CLAUSES):
        raise InvalidInput("Only clauses 4–10 of the harmonized structure can be mirrored.",
                           fields={"clause": "Not a harmonized-structure clause."})
    if item.status == GapItem.Status.NOT_ASSESSED:
        raise InvalidInput("Assess the row before mirroring it.",
                           fields={"status": "Not assessed yet."})
    targets = list(GapItem.objects.select_for_update(of=("self", "assessment")).select_related(
        "assessment__standard", "clause").filter(
        assessment__organization_id=item.assessment.organization_id,
        assessment__status=GapAssessment.Status.OPEN,
        clause__group="clauses", clause__number=item.clause.number,
    ).exclude(assessment__standard_id=item.assessment.standard_id))
    for target in targets:
        target.status, target.justification = item.status, item.justification
        target.notes, target.owner_id = item.notes, item.owner_id
        target.mirrored_from = item
        target.version += 1
        target.updated_by = actor
        target.save()
    _event(actor, "gap_item.mirrored", item, item.assessment, {
        "clause": item.clause.number, "status": item.status,
        "to": [{"standard": str(t.assessment.standard), "assessment": t.assessment_id,
                "item": t.pk} for t in targets]})
    return targets


# --- ISO 50001 energy review ----------------------------------------------------------------

def _positive_decimal(value, field: str, errors: dict, *, label: str, places: int,
                      maximum: Decimal) -> Decimal | None:
    try:
        number = Decimal(str(value))
        if not number.is_finite() or number <= 0 or number > maximum:
            raise InvalidOperation
        if number != number.quantize(Decimal(1).scaleb(-places)):
            errors[field] = f"{label}: at most {places} decimals."
            return None
        return number
    except (InvalidOperation, ValueError, TypeError):
        errors[field] = f"{label} must be a number above 0 and at most {maximum}."
        return None


@transaction.atomic
def save_energy_facts(*, assessment: GapAssessment, unit: str = "",
                      annual_consumption: Decimal | None = None,
                      energy_types: Iterable[str] = (),
                      significant_uses: Iterable[Mapping] = (), enpis: str = "",
                      baseline: str = "", actor: User) -> EnergyReviewFacts:
    """Record the ISO 50001 energy review: consumption (kept in TJ exactly), energy types,
    significant energy uses with their share, declared EnPIs and the energy baseline."""
    ensure_can_edit(assessment.organization, actor)
    assessment = _locked_assessment(assessment)
    if not assessment.standard.is_energy:
        raise InvalidInput("Energy-review facts belong to an ISO 50001 gap analysis.",
                           fields={"standard": "Not ISO 50001."})
    _ensure_open(assessment)
    errors: dict[str, str] = {}
    unit = str(unit or "")
    if unit not in TJ_PER_UNIT:
        errors["unit"] = "Choose kWh, MWh, GJ or TJ."
    amount = _positive_decimal(annual_consumption, "annual_consumption", errors,
                               label="Annual consumption", places=3,
                               maximum=Decimal("9999999999999"))
    types = []
    for name in energy_types or []:
        text = str(name or "").strip()[:80]
        if text and text.lower() not in {t.lower() for t in types}:
            types.append(text)
    if not types:
        errors["energy_types"] = "Name at least one energy type, e.g. electricity."
    uses = []
    for index, use in enumerate(significant_uses or []):
        name = str((use or {}).get("name") or "").strip()[:150]
        if not name:
            errors[f"significant_uses.{index}.name"] = "Name the significant energy use."
            continue
        share = _positive_decimal((use or {}).get("share_percent"),
                                  f"significant_uses.{index}.share_percent", errors,
                                  label="Share", places=2, maximum=Decimal(100))
        uses.append((name, share))
    if uses and all(s is not None for _, s in uses) and sum(s for _, s in uses) > 100:
        errors["significant_uses"] = "The shares of consumption add up to more than 100 %."
    enpis = _text(enpis, "enpis", errors)
    baseline = _text(baseline, "baseline", errors)
    if errors:
        raise InvalidInput("Please correct the energy-review facts.", fields=errors)
    facts, _ = EnergyReviewFacts.objects.update_or_create(assessment=assessment, defaults={
        "annual_consumption": amount, "unit": unit,
        "annual_consumption_tj": to_terajoules(amount, unit),
        "energy_types": types, "enpis": enpis, "baseline": baseline})
    facts.significant_uses.all().delete()
    SignificantEnergyUse.objects.bulk_create(
        SignificantEnergyUse(facts=facts, name=name, share_percent=share)
        for name, share in uses)
    _event(actor, "energy_facts.saved", facts, assessment, {
        "annual_consumption": str(amount), "unit": unit,
        "annual_consumption_tj": str(facts.annual_consumption_tj), "energy_types": types,
        "significant_uses": [[n, str(s)] for n, s in uses]})
    return facts


# --- sharing with the CB ----------------------------------------------------------------------

@transaction.atomic
def set_readiness_share(*, organization: Organization, standard, actor: User,
                        shared: bool) -> ReadinessShare:
    """The owner shares (or stops sharing) the readiness records of one standard with the
    CB: verdict, gap analysis and its reports, internal audit and management review."""
    try:
        ensure_owner(organization, actor)
    except NotPermitted:
        raise NotPermitted("Only an owner of the organization can share its readiness with "
                           "the certification body.")
    standard = _standard(standard)
    share, _ = ReadinessShare.objects.select_for_update().get_or_create(
        organization=organization, standard=standard)
    share.is_shared = bool(shared)
    share.changed_by = actor
    share.save()
    record_event(actor=actor, action="readiness.share." + ("granted" if shared else "revoked"),
                 obj=share, organization_id=organization.pk,
                 payload={"standard": str(standard), "shared": share.is_shared})
    return share
