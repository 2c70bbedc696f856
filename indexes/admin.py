"""Admin of the registry and the indexes: read-only views of what source systems delivered.

Records are written only by the ingestion services, so the index admins show
and never edit. A CPR number is never shown in full: lists and detail pages
show ``DDMMYY-****`` (the admin form never contains the raw field), search
works on case numbers, external ids and titles, not on CPR, and opening a
record about a citizen writes an access-log row the citizen can see
(``data_access_record``). Scoping to one municipality is added by the
Borgerblikket admin on top of these classes (override ``get_queryset`` and
``access_actor``).
"""

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from config.cpr_shape import cpr_shapes_mask
from config.logging import redact_cpr
from indexes.feeds import admin as feeds_admin  # noqa: F401 - registers feeds, polls
from indexes.masking import queryset_cpr_masked
from indexes.models import (
    ApiCredential,
    Case,
    CaseDocument,
    CaseProgress,
    Change,
    DataAccess,
    Document,
    Grant,
    GrantedBenefit,
    InboxBatch,
    Municipality,
    Payment,
    SourceSystem,
    WebhookDelivery,
    WebhookSubscription,
)
from indexes.selectors import records_citizens, records_for_admin
from indexes.services.access import RECORD_KINDS, data_access_record_many
from indexes.services.inbox import inbox_batch_retry
from indexes.services.webhooks import webhook_deliveries_replay


def cpr_mask(cpr: str | None) -> str:
    """``DDMMYY-****``: the most of a CPR number an admin page may show."""
    return f"{cpr[:6]}-****" if cpr else ""


def cpr_mask_in(value: Any) -> Any:
    """A JSON value (a change diff) with every ``cpr``/``party_cpr`` value masked, and every
    CPR-shaped number in any other text (a title)."""
    if isinstance(value, dict):
        return {
            key: cpr_mask(item)
            if key in ("cpr", "party_cpr") and isinstance(item, str)
            else cpr_mask_in(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [cpr_mask_in(item) for item in value]
    return cpr_shapes_mask(value) if isinstance(value, str) else value


class ReadOnlyAdminMixin:
    """Show, never add, change or delete: the services own every write."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return queryset_cpr_masked(super().get_queryset(request))


class IndexRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A record of the indexes, listed through ``records_for_admin``."""

    record_kind: str

    def admin_municipality(self, request):
        """The municipality the user may see; None = all (Borgerblikket narrows this)."""
        return None

    def get_queryset(self, request):
        # Read-only pages: the instances come out with CPR-shaped text masked (a title a
        # source system put a CPR in; DOMAIN.md §6: admin shows it masked).
        return queryset_cpr_masked(
            records_for_admin(kind=self.record_kind, municipality=self.admin_municipality(request))
        )


class CitizenRecordAdmin(IndexRecordAdmin):
    """A record about a citizen (``party_cpr``): masked CPR, logged detail views."""

    cpr_field = "party_cpr"

    @admin.display(description=_("part (CPR)"))
    def party_masked(self, obj) -> str:
        return cpr_mask(getattr(obj, self.cpr_field))

    @admin.display(boolean=True, description=_("tilbagekaldt"))
    def is_retracted(self, obj) -> bool:
        return obj.retracted_at is not None

    def access_actor(self, request) -> dict:
        """Who reads, as the citizen will see it (Borgerblikket narrows this per municipality):
        a role and an organisation, never the user's name (``DataAccess``)."""
        return {"actor_type": DataAccess.Actor.OPERATOR, "municipality": None}

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = (getattr(response, "context_data", None) or {}).get("original")
        if obj is not None and response.status_code == 200 and getattr(obj, self.cpr_field, None):
            data_access_record_many(
                reads=records_citizens(model=type(obj), ids=[obj.pk]),
                channel=DataAccess.Channel.ADMIN_RECORD,
                record_kind=RECORD_KINDS[type(obj)],
                detail=f"{obj._meta.verbose_name}: {obj}",
                user=request.user,
                source_system=obj.source_system,
                **self.access_actor(request),
            )
        return response


@admin.register(Municipality)
class MunicipalityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


class ApiCredentialInline(ReadOnlyInline):
    """The system's API keys, for operators only (a municipal admin sees none); only the
    public key id is kept and shown, never a secret. Issued, rotated and revoked on the
    keys' own admin (``indexes.admin_keys``)."""

    model = ApiCredential
    fields = ("key_id", "label", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


@admin.register(SourceSystem)
class SourceSystemAdmin(admin.ModelAdmin):
    list_display = (
        "name", "product", "municipality", "is_active", "sandbox", "created_at", "conformance",
    )  # fmt: skip
    list_filter = ("product", "is_active", "sandbox")
    search_fields = ("name", "municipality__name", "municipality__code")
    list_select_related = ("municipality",)
    autocomplete_fields = ("municipality",)
    inlines = [ApiCredentialInline]

    @admin.display(description=_("overensstemmelse"))
    def conformance(self, obj) -> str:
        # Borgerblikket's admin page (a URL name, not an import: indexes sits below it).
        url = reverse("borgerblikket_admin:conformance", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Rapport"))

    def get_readonly_fields(self, request, obj=None):
        # Taking a system out of the sandbox shows its records to citizens: operators only.
        readonly = tuple(super().get_readonly_fields(request, obj))
        return readonly if request.user.is_superuser else (*readonly, "sandbox")

    def get_inlines(self, request, obj):
        # API keys are for operators only: a municipal admin sees none of them.
        if request.user.is_superuser:
            return self.inlines
        return [inline for inline in self.inlines if inline is not ApiCredentialInline]


class CaseProgressInline(ReadOnlyInline):
    model = CaseProgress
    fields = ("status", "valid_from", "valid_to")
    readonly_fields = fields


class CaseDocumentInline(ReadOnlyInline):
    model = CaseDocument
    fk_name = "case"
    fields = ("document", "role")
    readonly_fields = fields
    verbose_name_plural = _("dokumenter")


@admin.register(Case)
class CaseAdmin(CitizenRecordAdmin):
    record_kind = "case"
    list_display = (
        "case_number",
        "title",
        "party_masked",
        "status",
        "kle_number",
        "municipality",
        "source_system",
        "last_changed_at",
        "is_retracted",
    )
    list_filter = ("status", "sensitivity", "hidden_from_citizen")
    # Case number and external id, never CPR (DOMAIN.md §6).
    search_fields = ("=case_number", "=external_id", "title")
    fields = (
        "case_number",
        "title",
        "alternative_title",
        "description",
        "source_status_text",
        "status",
        "awaiting_party_since",
        "awaiting_party_due",
        "awaiting_party_reason",
        "sensitivity",
        "hidden_from_citizen",
        "kle_subject",
        "facet",
        "party_masked",
        "party_cvr",
        "secondary_parties_shown",
        "benefit_recipient_shown",
        "residence_municipality",
        "responsible_unit",
        "primary_caseworker",
        "decision_class",
        "created_on",
        "last_changed_at",
        "municipality",
        "source_system",
        "external_id",
        "source_timestamp",
        "received_at",
        "version",
        "retracted_at",
    )
    readonly_fields = fields
    inlines = [CaseProgressInline, CaseDocumentInline]

    @admin.display(description=_("KLE"), ordering="kle_subject__number")
    def kle_number(self, obj) -> str:
        return obj.kle_subject.number

    @admin.display(description=_("sekundære parter"))
    def secondary_parties_shown(self, obj) -> str:
        return "; ".join(
            _named_party(party.get("cpr"), party.get("cvr"), party.get("name") or "")
            for party in obj.secondary_parties or []
            if isinstance(party, dict)
        )

    @admin.display(description=_("ydelsesmodtager"))
    def benefit_recipient_shown(self, obj) -> str:
        return _named_party(
            obj.benefit_recipient_cpr, obj.benefit_recipient_cvr, obj.benefit_recipient_name
        )


def _named_party(cpr: str | None, cvr: str | None, name: str) -> str:
    """A party as an admin page may show it: CPR masked, CVR and name as they are."""
    number = f"CPR {cpr_mask(cpr)}" if cpr else (f"CVR {cvr}" if cvr else "")
    return " ".join(part for part in (number, name) if part)


class DocumentCaseInline(ReadOnlyInline):
    model = CaseDocument
    fk_name = "document"
    fields = ("case", "role")
    readonly_fields = fields
    verbose_name_plural = _("sager")


@admin.register(Document)
class DocumentAdmin(IndexRecordAdmin):
    record_kind = "document"
    list_display = ("title", "type", "status", "letter_date", "municipality", "source_system")
    list_filter = ("type", "status")
    search_fields = ("=external_id", "title")
    fields = (
        "title",
        "letter_date",
        "type",
        "status",
        "sensitivity",
        "kle_subject",
        "sender_shown",
        "recipient_shown",
        "municipality",
        "source_system",
        "external_id",
        "source_timestamp",
        "received_at",
        "version",
        "retracted_at",
    )
    readonly_fields = fields
    inlines = [DocumentCaseInline]

    _party = staticmethod(_named_party)

    @admin.display(description=_("afsender"))
    def sender_shown(self, obj) -> str:
        return self._party(obj.sender_cpr, obj.sender_cvr, obj.sender_name)

    @admin.display(description=_("modtager"))
    def recipient_shown(self, obj) -> str:
        return self._party(obj.recipient_cpr, obj.recipient_cvr, obj.recipient_name)


class GrantedBenefitInline(ReadOnlyInline):
    model = GrantedBenefit
    fields = ("external_id", "name", "kind", "kle_subject", "start_on", "end_on", "status")
    readonly_fields = fields


@admin.register(Grant)
class GrantAdmin(CitizenRecordAdmin):
    record_kind = "grant"
    list_display = (
        "__str__",
        "party_masked",
        "status",
        "start_on",
        "end_on",
        "municipality",
        "source_system",
        "is_retracted",
    )
    list_filter = ("status",)
    search_fields = ("=case_number", "=external_id")
    fields = (
        "case_number",
        "party_masked",
        "recipient_shown",
        "start_on",
        "end_on",
        "reason",
        "sensitivity",
        "status",
        "related_case",
        "related_case_external_id",
        "municipality",
        "source_system",
        "external_id",
        "source_timestamp",
        "received_at",
        "version",
        "retracted_at",
    )
    readonly_fields = fields
    inlines = [GrantedBenefitInline]

    @admin.display(description=_("ydelsesmodtager"))
    def recipient_shown(self, obj) -> str:
        return _named_party(obj.recipient_cpr, obj.recipient_cvr, obj.recipient_name)


@admin.register(Payment)
class PaymentAdmin(CitizenRecordAdmin):
    record_kind = "payment"
    list_display = (
        "external_id",
        "party_masked",
        "disposal_date",
        "gross_amount",
        "amount_after_tax",
        "municipality",
        "source_system",
        "is_retracted",
    )
    search_fields = ("=external_id",)
    fields = (
        "benefit",
        "party_masked",
        "disposal_date",
        "period_start",
        "period_end",
        "gross_amount",
        "amount_after_tax",
        "amount_sent",
        "amount_paid",
        "paying_office",
        "municipality",
        "source_system",
        "external_id",
        "source_timestamp",
        "received_at",
        "version",
        "retracted_at",
    )
    readonly_fields = fields


@admin.register(Change)
class ChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("record_type", "record_id", "version", "action", "source_system", "received_at")
    list_filter = ("record_type", "action")
    search_fields = ("=record_id",)
    list_select_related = ("source_system",)
    fields = (
        "record_type",
        "record_id",
        "version",
        "action",
        "source_system",
        "user",
        "source_timestamp",
        "received_at",
        "diff_masked",
    )
    readonly_fields = fields

    @admin.display(description=_("ændringer"))
    def diff_masked(self, obj) -> str:
        rows = (
            (field, _as_text(before), _as_text(after))
            for field, (before, after) in sorted(cpr_mask_in(obj.diff).items())
        )
        table = format_html_join("", "<tr><th>{}</th><td>{}</td><td>→ {}</td></tr>", rows)
        return format_html("<table>{}</table>", table) if obj.diff else "—"


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@admin.register(InboxBatch)
class InboxBatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Bulk deliveries waiting, done or parked; a parked batch failed
    ``INDEXES_INBOX_MAX_TRIES`` times and is retried from here once its cause is fixed.
    Records are counted, never shown (they hold CPR numbers)."""

    list_display = (
        "id", "source_system", "status", "received_at", "record_count", "tries", "parked_at",
        "short_error",
    )  # fmt: skip
    list_filter = ("status", "source_system__municipality")
    list_select_related = ("source_system",)
    search_fields = ("=id",)
    date_hierarchy = "received_at"
    fields = (
        "id", "source_system", "status", "received_at", "record_count", "enqueued_at",
        "attempts", "tries", "parked_at", "finished_at", "outcomes", "shown_error",
    )  # fmt: skip
    readonly_fields = fields
    actions = ["retry"]

    @admin.display(description=_("seneste fejl"))
    def short_error(self, batch: InboxBatch) -> str:
        return redact_cpr(batch.last_error.splitlines()[0])[:120] if batch.last_error else ""

    @admin.display(description=_("seneste fejl"))
    def shown_error(self, batch: InboxBatch) -> str:
        return redact_cpr(batch.last_error) or "—"

    @admin.display(description=_("poster efter udfald"))
    def outcomes(self, batch: InboxBatch) -> str:
        counts = batch.records.values_list("outcome").annotate(n=Count("id")).order_by("outcome")
        return ", ".join(f"{outcome}: {n}" for outcome, n in counts) or "—"

    def has_retry_permission(self, request) -> bool:
        return request.user.is_superuser

    @admin.action(description=_("Prøv parkerede batches igen"), permissions=["retry"])
    def retry(self, request, queryset):
        count = inbox_batch_retry(batch_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(
            request, _("%d parkerede batches sat i kø igen.") % count, messages.SUCCESS
        )


from indexes import admin_keys  # noqa: E402, F401 - registers the keys' admin


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    """Where a source system gets its events (docs/api.md, "Events back"); operators only.

    The secret is made when the subscription is created and shown here, for the vendor's
    receiver to verify the signatures with."""

    list_display = ("source_system", "url", "is_active", "created_at")
    list_filter = ("is_active",)
    list_select_related = ("source_system",)
    autocomplete_fields = ("source_system",)
    fields = ("source_system", "url", "event_types", "is_active", "secret", "created_at")
    readonly_fields = ("secret", "created_at")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Deliveries of events to subscriptions; filter *Opgivet* for the dead-letter list,
    and replay from there once the receiver is fixed."""

    list_display = (
        "event_type", "event_subject", "subscription", "status", "attempts", "next_attempt_at",
        "delivered_at", "died_at", "last_error",
    )  # fmt: skip
    list_filter = ("status", "event__type")
    list_select_related = ("event", "subscription__source_system")
    fields = (
        "event_type", "event_subject", "subscription", "status", "attempts", "next_attempt_at",
        "delivered_at", "died_at", "last_error",
    )  # fmt: skip
    readonly_fields = fields
    actions = ["replay"]

    @admin.display(description=_("type"))
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.type

    @admin.display(description=_("emne"))
    def event_subject(self, delivery: WebhookDelivery) -> str:
        return delivery.event.subject

    def has_replay_permission(self, request) -> bool:
        return request.user.is_superuser

    @admin.action(description=_("Send opgivne leveringer igen"), permissions=["replay"])
    def replay(self, request, queryset):
        count = webhook_deliveries_replay(delivery_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(
            request, _("%d opgivne leveringer sendes igen.") % count, messages.SUCCESS
        )
