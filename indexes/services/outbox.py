"""The notification outbox's writer: events for the changes ingestion just applied.

Called by the ingestion engine in the transaction that writes the records and their
``Change`` rows (``indexes.models.outbox``), so an event exists exactly when its
change does. Which topic a change is about is read from the change's own diff:

- a case: created, or its progress (status) changed → ``status``; the municipality
  starts waiting for the party, or changes what or by when it waits → ``awaiting``.
  Cases without a CPR party (a CVR number, or none) give nothing.
- a document: created → ``document`` (a new document title).
- a payment: created or changed → ``payment``.

Grants and retractions give no event. Nothing is written while
``settings.OVERBLIK_NOTIFICATIONS_ENABLED`` is off.
"""

from django.conf import settings

from indexes.models import NotificationEvent, NotificationTopic
from indexes.services import bulk

_WAIT_FIELDS = ("awaiting_party_since", "awaiting_party_due", "awaiting_party_reason")


def _case_topics(decision) -> list[str]:
    if not getattr(decision.existing, "party_cpr", None):
        return []
    if decision.action == "create":
        topics = [NotificationTopic.STATUS]
        if decision.canonical.get("awaiting_party_since"):
            topics.append(NotificationTopic.AWAITING)
        return topics
    diff = decision.diff
    topics = []
    if "progress" in diff or "retracted_at" in diff:
        topics.append(NotificationTopic.STATUS)
    if decision.canonical.get("awaiting_party_since") and any(f in diff for f in _WAIT_FIELDS):
        topics.append(NotificationTopic.AWAITING)
    return topics


def _document_topics(decision) -> list[str]:
    return [NotificationTopic.DOCUMENT] if decision.action == "create" else []


def _payment_topics(decision) -> list[str]:
    return [NotificationTopic.PAYMENT]


_TOPICS = {"case": _case_topics, "document": _document_topics, "payment": _payment_topics}


def events_for_changes(kind: str, decisions, *, received_at) -> int:
    """Write the events of a round of applied changes; how many were written."""
    if not settings.OVERBLIK_NOTIFICATIONS_ENABLED:
        return 0
    topics_of = _TOPICS.get(kind)
    if topics_of is None:
        return 0
    rows = [
        {
            "topic": str(topic),
            "record_type": kind,
            "record_id": decision.existing.pk,
            "created_at": received_at,
        }
        for decision in decisions
        for topic in topics_of(decision)
    ]
    bulk.rows_insert(NotificationEvent, rows)
    return len(rows)
