"""CPR-shaped numbers in the index's text, masked on the way out (DOMAIN.md §6).

The index keeps what a source system delivered; a title may still carry a CPR
number ("… vedr. barn 010170-1234", issue 12.3). Whatever shows index records —
the citizen's door (``borgerblikket.citizen_safe``), the admin — reads them
through ``cpr_masked`` or a ``CprMaskedQuerySet``, which show every CPR-shaped
number (config/cpr_shape.py) as ``DDMMYY-****``. Masked instances are for
display: they are never saved.
"""

import dataclasses
from typing import Any

from django.db import models
from django.db.models.query import ModelIterable

from config.cpr_shape import cpr_shapes_mask


def cpr_masked(value: Any) -> Any:
    """``value`` with every CPR-shaped number in its text masked.

    Text is masked; a dataclass instance is copied with its text fields masked; a
    model instance has the text of its loaded fields, annotations and loaded related
    objects masked in place; dicts, lists and tuples are masked item by item.
    Anything else is returned as it is.
    """
    if isinstance(value, str):
        return cpr_shapes_mask(value)
    if isinstance(value, models.Model):
        _instance_mask(value, set())
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: cpr_masked(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if isinstance(getattr(value, f.name), str | list | tuple | dict)
        }
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, dict):
        return {key: cpr_masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [cpr_masked(item) for item in value]
    if isinstance(value, tuple):
        items = [cpr_masked(item) for item in value]
        return value._make(items) if hasattr(value, "_make") else tuple(items)
    return value


def _instance_mask(instance: models.Model, seen: set[int]) -> None:
    if id(instance) in seen:  # a one-to-one caches each side on the other
        return
    seen.add(id(instance))
    for name, item in list(vars(instance).items()):
        if isinstance(item, str):
            masked = cpr_shapes_mask(item)
            if masked != item:
                setattr(instance, name, masked)
    for related in instance._state.fields_cache.values():
        if isinstance(related, models.Model):
            _instance_mask(related, seen)


_MASKING: dict[type, type] = {}


def masking_iterable(iterable_class: type) -> type:
    """``iterable_class`` (a QuerySet's row maker) whose rows — instances, dicts, tuples,
    values — pass through ``cpr_masked``."""
    if iterable_class in _MASKING.values():
        return iterable_class
    masked = _MASKING.get(iterable_class)
    if masked is None:

        def __iter__(self):
            for row in iterable_class.__iter__(self):
                yield cpr_masked(row)

        masked = type(
            f"CprMasked{iterable_class.__name__}", (iterable_class,), {"__iter__": __iter__}
        )
        _MASKING[iterable_class] = masked
    return masked


class CprMaskedQuerySet(models.QuerySet):
    """Every row, however it is read (instances, ``values()``, ``values_list()``,
    ``first()``, ``iterator()``), has its CPR-shaped numbers masked."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._iterable_class = masking_iterable(ModelIterable)

    def values(self, *fields, **expressions):
        clone = super().values(*fields, **expressions)
        clone._iterable_class = masking_iterable(clone._iterable_class)
        return clone

    def values_list(self, *fields, flat=False, named=False):
        clone = super().values_list(*fields, flat=flat, named=named)
        clone._iterable_class = masking_iterable(clone._iterable_class)
        return clone


def queryset_cpr_masked(queryset: models.QuerySet) -> models.QuerySet:
    """``queryset`` whose model instances come out masked (for the admin's read-only
    lists and pages; ``values()`` on it is not masked)."""
    clone = queryset.all()
    clone._iterable_class = masking_iterable(clone._iterable_class)
    return clone
