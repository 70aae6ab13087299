"""What the register does when accounts reports a declared client relationship
(``accounts.signals``): accounts stands below and imports nothing of this app."""

from django.dispatch import receiver

from isocert.accounts.signals import client_relationship_declared, client_relationship_ended

from . import services


@receiver(client_relationship_declared, dispatch_uid="impartiality.relationship_declared")
def relationship_declared(sender, *, relationship, actor, **kwargs) -> None:
    """A declared relationship is a threat in the register (ISO/IEC 17021-1 §5.2.3)."""
    services.record_relationship_risk(relationship=relationship, actor=actor)


@receiver(client_relationship_ended, dispatch_uid="impartiality.relationship_ended")
def relationship_ended(sender, *, relationship, actor, **kwargs) -> None:
    """An ended relationship's risk is due for review."""
    services.request_relationship_review(relationship=relationship, actor=actor)
