"""Values a citizen sees carry no CPR number, whatever a source system or a sheet put in them.

A case title "Afgørelse om tilskud vedr. barn 010170-1234" names a third person
(issue 12.3). The index keeps what the source system delivered (the data-quality
report flags it, ``quality.cases_with_cpr_in_text`` & co.); everything that
leaves the door (``borgerblikket.selectors``: the citizen's pages and the
admin's preview) passes through ``citizen_safe`` or is read through
``CitizenSafeQuerySet`` (the proxies' manager), which show every CPR-shaped
number (config/cpr_shape.py) as ``DDMMYY-****`` — the most of a CPR number any
page shows. It is applied to the returned values, not per template, so a new
field or page cannot forget it.
"""

from indexes.masking import CprMaskedQuerySet, cpr_masked

citizen_safe = cpr_masked


class CitizenSafeQuerySet(CprMaskedQuerySet):
    """What the door's proxies (``CitizenCase`` & co.) are read through: masked rows."""


__all__ = ["CitizenSafeQuerySet", "citizen_safe"]
