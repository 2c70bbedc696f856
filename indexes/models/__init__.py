"""The registry and the two indexes.

- registry: municipalities, source systems and their API credentials
- cases: the case and document index (KOMBIT SF1470 v6)
- benefits: the benefit index (KOMBIT YI v6)
- history: every change to an indexed record
- inbox: accepted bulk deliveries waiting for a worker
- sources: the feeds the index polls, their cursors and poll log
"""

from indexes.models.access import DataAccess
from indexes.models.benefits import (
    BenefitKind,
    BenefitStatus,
    Grant,
    GrantedBenefit,
    Payment,
    PaymentPlan,
    PaymentTiming,
)
from indexes.models.cases import (
    Case,
    CaseDocument,
    CaseProgress,
    CaseRelation,
    Document,
    DocumentRole,
    DocumentStatus,
    DocumentType,
    ProgressStatus,
)
from indexes.models.common import IndexedRecord, Sensitivity
from indexes.models.events import (
    EventType,
    OutboxEvent,
    WebhookDelivery,
    WebhookSubscription,
)
from indexes.models.feeds import (
    FeedAdapter,
    FeedCursor,
    FeedPoll,
    FeedRejection,
    SourceFeed,
)
from indexes.models.history import Change
from indexes.models.inbox import IdempotencyKey, InboxBatch, InboxRecord
from indexes.models.outbox import NotificationEvent, NotificationTopic
from indexes.models.registry import ApiCredential, ApiCredentialEvent, Municipality, SourceSystem

__all__ = [
    "ApiCredential",
    "ApiCredentialEvent",
    "BenefitKind",
    "BenefitStatus",
    "Case",
    "CaseDocument",
    "CaseProgress",
    "CaseRelation",
    "Change",
    "DataAccess",
    "Document",
    "DocumentRole",
    "DocumentStatus",
    "DocumentType",
    "EventType",
    "FeedAdapter",
    "FeedCursor",
    "FeedPoll",
    "FeedRejection",
    "Grant",
    "GrantedBenefit",
    "IdempotencyKey",
    "InboxBatch",
    "InboxRecord",
    "IndexedRecord",
    "Municipality",
    "NotificationEvent",
    "NotificationTopic",
    "OutboxEvent",
    "Payment",
    "PaymentPlan",
    "PaymentTiming",
    "ProgressStatus",
    "Sensitivity",
    "SourceFeed",
    "SourceSystem",
    "WebhookDelivery",
    "WebhookSubscription",
]
