from django.db.models import Count

from .models import Clause, Country, Sector, Standard


def standards_current():
    return Standard.objects.filter(is_current=True).order_by("code")


def standards_with_counts():
    return standards_current().annotate(clause_count=Count("clauses"))


def standard_by_code_or_slug(value: str) -> Standard | None:
    for standard in standards_with_counts():
        if value in (standard.code, standard.slug, str(standard)):
            return standard
    return None


def clauses_of(standard: Standard):
    return Clause.objects.filter(standard=standard).select_related("parent").order_by("position")


def sectors_all():
    return Sector.objects.all()


def countries_all():
    return Country.objects.all()
