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

from django.db import models
from django.db.models.query import ModelIterable

from indexes.masking import CprMaskedQuerySet, cpr_masked, masking_iterable

citizen_safe = cpr_masked


# What says as much as a sensitive benefit's name: the municipality's message and its
# description of the service.
WITHHELD_WITH_THE_NAME = ("message", "description")


class _NeutralisingIterable(masking_iterable(ModelIterable)):
    """Rows a selector marked ``name_withheld`` (a sensitive benefit seen by a holder or
    at too low an assurance level) carry the neutral name in ``name`` and no message or
    description, so no page or log can show the real ones by reading the field."""

    def __iter__(self):
        for row in super().__iter__():
            if isinstance(row, models.Model) and row.__dict__.get("name_withheld"):
                row.name = row.__dict__.get("neutral_name") or ""
                for detail in WITHHELD_WITH_THE_NAME:
                    if detail in row.__dict__:
                        setattr(row, detail, "")
            yield row


class CitizenSafeQuerySet(CprMaskedQuerySet):
    """What the door's proxies (``CitizenCase`` & co.) are read through: masked rows,
    neutral names where the selector withheld them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._iterable_class = _NeutralisingIterable


__all__ = ["CitizenSafeQuerySet", "citizen_safe"]
