"""What accounts tells the apps above it about the CB's people, without importing them.

``client_relationship_declared``: sent inside the transaction of
``services.declare_client_relationship`` (through which the Django admin adds one too) with
``relationship`` and ``actor``, after the row and its audit event are written. The impartiality register (ISO/IEC 17021-1 §5.2)
records the threat in the same transaction: a receiver's failure undoes the declaration.

``client_relationship_ended``: sent the same way by ``services.end_client_relationship``
(and by the Django admin when an administrator sets the end date) with ``relationship``
and ``actor``: the register marks the threat for review.
"""

from django.dispatch import Signal

client_relationship_declared = Signal()
client_relationship_ended = Signal()
