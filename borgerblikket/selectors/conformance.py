"""The conformance report of one source system: seed 004's compliance test (issue 18).

What a product's installation has shown it does, from what the index already keeps:

- **kinds and operations**: its ``Change`` history (created / updated / retracted per
  kind) — every write of every entry point (PUT, DELETE, bulk, feed) is a ``Change``;
- **ordering and replays**: outcomes the index wrote nothing for — a replay
  (``unchanged``) and an overtaken update (``stale``) — from the bulk inbox's
  records (``InboxRecord``) and the feeds' poll log (``FeedPoll``). A single ``PUT``
  answered ``unchanged``/``stale`` leaves no trace and is not counted;
- **problems**: rejected deliveries by problem code (inbox and feed rejections) and
  their rate against everything received;
- **title and KLE quality** of its live records, by borgerblikket's own title rules
  and KLE's Historisk (``selectors.quality``);
- the operator's **approval for roll-out** of its product (``ProductApproval``), which
  carries to every installation of the product.

Sandbox installations are reported like any other: this is where their data counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

from django.db.models import Count, Q, Sum

from borgerblikket.models import ProductApproval
from borgerblikket.selectors import quality
from indexes.models import (
    Case,
    Change,
    Document,
    FeedPoll,
    FeedRejection,
    InboxRecord,
    SourceSystem,
)
from kle.models import Subject

KLE_PROBLEM_CODES = ("unknown_kle", "kle_expired", "kle_moved", "kle_not_topic")
KINDS = ("case", "document", "grant", "payment")


@dataclass
class Approval:
    product: str
    approved_by: str
    approved_at: str
    based_on: str
    note: str


@dataclass
class ConformanceReport:
    source_system_id: int
    name: str
    product: str
    municipality: str
    sandbox: bool
    # {kind: {"created": n, "updated": n, "retracted": n}}
    operations: dict[str, dict[str, int]] = field(default_factory=dict)
    received: int = 0
    applied: int = 0
    replays_unchanged: int = 0
    stale_rejected_writes: int = 0
    rejected: int = 0
    problems_by_code: dict[str, int] = field(default_factory=dict)
    problem_rate: float = 0.0
    live_cases: int = 0
    live_documents: int = 0
    case_titles_breaking_rules: int = 0
    case_titles_without_lead_word: int = 0
    document_titles_breaking_rules: int = 0
    cases_on_expired_or_moved_kle: int = 0
    kle_rejections: int = 0
    approval: Approval | None = None

    @property
    def kinds_delivered(self) -> list[str]:
        return [kind for kind in KINDS if any(self.operations.get(kind, {}).values())]

    @property
    def retractions(self) -> int:
        return sum(ops.get("retracted", 0) for ops in self.operations.values())

    def as_dict(self) -> dict:
        data = asdict(self)
        data["kinds_delivered"] = self.kinds_delivered
        data["retractions"] = self.retractions
        return data


def product_approval_get(*, product: str) -> Approval | None:
    """The roll-out approval of a product, whichever installation it was given on."""
    mark = ProductApproval.objects.filter(product=product).select_related("based_on").first()
    if mark is None:
        return None
    return Approval(
        product=mark.product,
        approved_by=mark.approved_by,
        approved_at=mark.approved_at.isoformat(),
        based_on=str(mark.based_on) if mark.based_on_id else "",
        note=mark.note,
    )


def conformance_report(*, source_system: SourceSystem) -> ConformanceReport:
    """The conformance report of ``source_system`` (a handful of aggregate queries)."""
    ss = source_system
    report = ConformanceReport(
        source_system_id=ss.pk,
        name=ss.name,
        product=ss.product,
        municipality=ss.municipality_id,
        sandbox=ss.sandbox,
    )
    changes = (
        Change.objects.filter(source_system=ss)
        .order_by()
        .values("record_type", "action")
        .annotate(n=Count("pk"))
    )
    for row in changes:
        report.operations.setdefault(row["record_type"], {})[row["action"]] = row["n"]
    report.applied = sum(sum(ops.values()) for ops in report.operations.values())

    codes: Counter[str] = Counter()
    inbox = (
        InboxRecord.objects.filter(batch__source_system=ss)
        .order_by()
        .values("outcome")
        .annotate(n=Count("pk"))
    )
    by_outcome = {row["outcome"]: row["n"] for row in inbox}
    for problems in InboxRecord.objects.filter(
        batch__source_system=ss, outcome=InboxRecord.Outcome.REJECTED
    ).values_list("problems", flat=True):
        codes.update({p.get("code", "") for p in problems or [] if isinstance(p, dict)})
    polls = FeedPoll.objects.filter(feed__source_system=ss).aggregate(
        received=Sum("received"),
        unchanged=Sum("unchanged"),
        stale=Sum("stale"),
        rejected=Sum("rejected"),
    )
    for row in (
        FeedRejection.objects.filter(feed__source_system=ss)
        .order_by()
        .values("code")
        .annotate(n=Count("pk"))
    ):
        codes[row["code"]] += row["n"]
    report.replays_unchanged = by_outcome.get("unchanged", 0) + (polls["unchanged"] or 0)
    report.stale_rejected_writes = by_outcome.get("stale", 0) + (polls["stale"] or 0)
    report.rejected = by_outcome.get("rejected", 0) + (polls["rejected"] or 0)
    report.received = sum(by_outcome.values()) + (polls["received"] or 0)
    report.problems_by_code = dict(sorted(codes.items()))
    if report.received:
        report.problem_rate = round(report.rejected / report.received, 4)
    report.kle_rejections = sum(codes[c] for c in KLE_PROBLEM_CODES)

    cases = Case.objects.filter(source_system=ss, retracted_at__isnull=True)
    documents = Document.objects.filter(source_system=ss, retracted_at__isnull=True)
    lead = quality._title_lacks_lead_word("title")
    counts = cases.aggregate(
        live=Count("pk"),
        breaking=Count("pk", filter=quality._title_breaks_rules("title")),
        no_lead=Count("pk", filter=lead) if lead is not None else Count("pk", filter=Q(pk=None)),
        kle=Count(
            "pk",
            filter=~Q(kle_subject__level=Subject.Level.TOPIC)
            | Q(kle_subject__expired_on__isnull=False)
            | Q(kle_subject__moved_on__isnull=False),
        ),
    )
    report.live_cases = counts["live"]
    report.case_titles_breaking_rules = counts["breaking"]
    report.case_titles_without_lead_word = counts["no_lead"]
    report.cases_on_expired_or_moved_kle = counts["kle"]
    doc_counts = documents.aggregate(
        live=Count("pk"), breaking=Count("pk", filter=quality._title_breaks_rules("title"))
    )
    report.live_documents = doc_counts["live"]
    report.document_titles_breaking_rules = doc_counts["breaking"]
    report.approval = product_approval_get(product=ss.product)
    return report
