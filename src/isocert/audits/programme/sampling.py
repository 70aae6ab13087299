"""Which sites an audit visits (IAF MD 1): the reviewer's choice, a random share and the
rotation of sites across the cycle's surveillance audits."""

import math
import random
import secrets

from django.db import transaction

from isocert.accounts.models import Site, User
from isocert.registration.models import AuditTimeDetermination

from .common import (
    audit_event,
    ensure_manager,
    ensure_planned,
    locked_audit,
)
from .errors import (
    SiteSelectionInvalid,
)
from .models import (
    Audit,
)
from .rules import (
    RANDOM_SHARE,
    SAMPLE_STAGE,
    SURVEILLANCE_KINDS,
)


def candidate_sites(audit: Audit) -> list[Site]:
    """The sites of the application besides the central function (all of the
    organization's when the application named none)."""
    application = audit.cycle.application
    sites = list(application.sites.all()) or list(audit.cycle.organization.sites.all())
    return [site for site in sites if not site.is_central_function]


def central_function(audit: Audit) -> Site | None:
    return audit.cycle.organization.sites.filter(is_central_function=True).first()


def required_site_count(audit: Audit) -> int:
    """How many sites besides the central function this audit visits (IAF MD 1)."""
    candidates = len(candidate_sites(audit))
    determination = AuditTimeDetermination.objects.filter(
        application_id=audit.cycle.application_id).first()
    visits = (determination.computed.get("sites_to_visit") if determination else None) or {}
    stage = SAMPLE_STAGE.get(audit.kind)
    if stage is None or stage not in visits:
        return candidates
    return min(int(visits[stage]), candidates)


def minimum_random(required: int) -> int:
    return math.ceil(required * RANDOM_SHARE) if required else 0


def _visited_elsewhere(audit: Audit) -> set[int]:
    """Sites visited by the cycle's other surveillance audits: rotate to new ones."""
    if audit.kind not in SURVEILLANCE_KINDS:
        return set()
    others = audit.cycle.audits.filter(kind__in=SURVEILLANCE_KINDS).exclude(pk=audit.pk)
    visited = set()
    for other in others:
        selection = other.site_selection or {}
        visited.update(selection.get("chosen", []) + selection.get("random", []))
    return visited


@transaction.atomic
def select_audit_sites(*, audit: Audit, actor: User, chosen_site_ids, rng=None) -> Audit:
    """The reviewer chooses some sites; the rest of the sample — at least 25 % — is drawn
    at random; surveillance audits visit sites the cycle's other surveillance did not,
    as long as there are any; the central function is visited every time."""
    ensure_manager(actor)
    audit = locked_audit(audit)
    ensure_planned(audit)
    candidates = {site.pk: site for site in candidate_sites(audit)}
    try:
        chosen = [int(pk) for pk in chosen_site_ids or []]
    except (TypeError, ValueError):
        chosen = None
    if chosen is None or len(set(chosen)) != len(chosen) or not set(chosen) <= set(candidates):
        raise SiteSelectionInvalid("Choose sites of the application (not the central function).",
                                   fields={"chosen_site_ids": "Unknown or repeated site."})
    required = required_site_count(audit)
    at_random = minimum_random(required)
    if len(chosen) > required - at_random:
        raise SiteSelectionInvalid(
            f"This audit visits {required} site(s) besides the central function, of which at "
            f"least {at_random} are drawn at random: choose at most {required - at_random}.",
            fields={"chosen_site_ids": f"At most {required - at_random} chosen sites."})
    visited = _visited_elsewhere(audit)
    unvisited = [pk for pk in candidates if pk not in visited]
    repeated = [candidates[pk].name for pk in chosen if pk in visited]
    if repeated and len(unvisited) >= required:
        raise SiteSelectionInvalid(
            f"{', '.join(repeated)} was visited at another surveillance audit of this cycle; "
            "choose sites not yet visited.",
            fields={"chosen_site_ids": "Visit different sites across the cycle."})
    seed = secrets.randbits(32)
    generator = rng or random.Random(seed)
    pool = [pk for pk in unvisited if pk not in chosen]
    fallback = [pk for pk in candidates if pk in visited and pk not in chosen]
    drawn_count = required - len(chosen)
    drawn = generator.sample(sorted(pool), min(drawn_count, len(pool)))
    if len(drawn) < drawn_count:
        drawn += generator.sample(sorted(fallback), drawn_count - len(drawn))
    central = central_function(audit)
    audit.sites.set(([central.pk] if central else []) + chosen + drawn)
    audit.site_selection = {"chosen": chosen, "random": drawn, "seed": seed,
                            "required": required, "minimum_random": at_random,
                            "central_function": central.pk if central else None}
    audit.save(update_fields=["site_selection"])
    audit_event(actor, "audits.audit.sites_selected", audit,
           {"chosen": chosen, "random": drawn, "required": required})
    return audit
