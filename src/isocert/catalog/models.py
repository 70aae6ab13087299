"""Reference data shipped as versioned files: standards, clauses, sectors, countries."""

from django.db import models


class Country(models.Model):
    code = models.CharField(max_length=2, primary_key=True, help_text="ISO 3166-1 alpha-2")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "countries"

    def __str__(self) -> str:
        return self.name


class Sector(models.Model):
    """An IAF technical sector (IAF ID 1 / EA code)."""

    code = models.PositiveSmallIntegerField(primary_key=True)
    name = models.CharField(max_length=150)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"IAF {self.code} — {self.name}"


class Standard(models.Model):
    code = models.CharField(max_length=30, help_text='e.g. "ISO 9001"')
    edition = models.CharField(max_length=10, help_text='e.g. "2015"')
    title = models.CharField(max_length=200)
    data_version = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True)

    class Meta:
        ordering = ["code", "-edition"]
        constraints = [
            models.UniqueConstraint(fields=["code", "edition"], name="unique_standard_edition")
        ]

    def __str__(self) -> str:
        return f"{self.code}:{self.edition}"

    @property
    def slug(self) -> str:
        return self.code.lower().replace("/", "-").replace(" ", "-")

    @property
    def is_energy(self) -> bool:
        return self.code == "ISO 50001"


class Clause(models.Model):
    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="clauses")
    group = models.CharField(max_length=20, default="clauses", help_text='"clauses" or "annex_a"')
    number = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    guidance = models.TextField()
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="children")
    depth = models.PositiveSmallIntegerField(default=0)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["standard", "position"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "number"], name="unique_clause_number")
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"
