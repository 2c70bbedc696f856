"""Ingestion of index records delivered by source systems.

The one path by which a record enters the indexes: the REST API (a single PUT),
the bulk inbox (``indexes.services.inbox``) and the polled feeds all call it.
The public surface is what this package exports:

- ``record_apply`` / ``records_apply_many``: validate and upsert one record, or a
  batch, by (source system, external id); an ``Outcome`` or ``RecordRejected`` each.
- ``record_validate`` / ``records_validate_many``: the same checks, writing nothing.
- ``record_retract``: retract a record, keeping a tombstone.
- ``Outcome``, and ``RECORD_KINDS`` (the kinds, as the API lists them).

Reads (``record_get``, ``records_list``, ``record_to_payload``) are selectors:
``indexes.selectors``. Errors: ``indexes.services.errors``.

Layout: ``engine`` holds the common path (validation, ordering by
``source_timestamp``, idempotency, outcomes, ``Change`` history, rejection, the
transaction and row locks, retraction); each kind is a ``Handler`` in a module of
its own (``cases``, ``grants``, ``documents``, ``payments``: its lookups for the
domain rules, how it loads and writes its rows and children) registered below.
A new kind is a new module and one more handler in ``register``.

One engine serves a single PUT and a bulk delivery: validate every record, load
what already exists with one query per kind, decide each record's outcome, then
write with bulk inserts and updates in one transaction. A rejected record writes
nothing; the others still apply.

Ordering (SF1470 Registrering/Tidspunkt; DOMAIN.md §3): a delivery is ordered by
its ``source_timestamp``.

- older than the stored record → ``stale``; nothing is written.
- equal and the same content → ``unchanged`` (a replay is a no-op).
- equal with different content → rejected (``timestamp_conflict``): two
  different registrations cannot have the same time, and any pick would make
  the result depend on delivery order.
- newer with the same content → ``unchanged``; the stored timestamp moves on
  (so a later-arriving delivery in between is recognised as stale) but the
  version does not change.
- newer with other content → ``updated``: version + 1 and a ``Change`` row.

Retraction (``record_retract``) keeps the record as a tombstone with
``retracted_at``. A delivery not newer than the retraction is ``stale``, so a
late, older PUT cannot resurrect it; a strictly newer PUT brings the record back
(outcome ``updated``, ``retracted_at`` cleared; the source system has created it
again). On equal timestamps the retraction wins, whichever arrives first. A
tombstone keeps the fields it had when retracted (they are shown nowhere); a
version older than the retraction is never applied to it, so after shuffled
deliveries two tombstones may differ in those fields but not in being retracted
as of the same time.

Related cases are named by external id within the same source system. A
reference to a case not delivered yet is kept (``CaseRelation.related`` NULL,
``Grant``/``GrantedBenefit.related_case`` NULL with the id kept) and resolved
when that case arrives, so delivery order does not matter. A document's cases
and a payment's grant must exist already (else ``unknown_case`` /
``unknown_grant``); in a bulk delivery they may come earlier in the same batch,
because a batch is applied kind by kind: cases, grants, documents, payments.
"""

from indexes.services.ingestion import cases, documents, grants, payments
from indexes.services.ingestion.engine import (
    Outcome,
    record_apply,
    record_kinds,
    record_retract,
    record_validate,
    records_apply_many,
    records_validate_many,
    register,
)

# The order a batch is applied in: references point from later kinds to earlier ones.
register(
    cases.CaseHandler(),
    grants.GrantHandler(),
    documents.DocumentHandler(),
    payments.PaymentHandler(),
)

RECORD_KINDS = record_kinds()

__all__ = [
    "RECORD_KINDS",
    "Outcome",
    "record_apply",
    "record_retract",
    "record_validate",
    "records_apply_many",
    "records_validate_many",
]
