"""The indexes' admins, scoped to the municipal admin's municipalities.

``indexes/admin.py`` (the index services engineer's) registers read-only
admins; borgerblikket may import indexes, not the other way round, so the
scoping is added here: each registered admin is re-registered as a subclass
with ``MunicipalityScopedAdminMixin`` in front.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

import indexes.admin  # their admins are registered first, then scoped here
from borgerblikket.admin.scoping import MunicipalityScopedAdminMixin, scope_register
from borgerblikket.selectors.scoping import is_operator, municipalities_for_user
from config.cpr_shape import cpr_shapes_mask
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
    Municipality,
    Payment,
    PaymentPlan,
    SourceSystem,
)
from indexes.selectors import records_citizens
from indexes.services.access import RECORD_KINDS, data_access_record_many

# model → lookup to the municipality (what each role may do there: borgerblikket/roles.py)
SCOPED_INDEX_ADMINS = {
    Municipality: "pk",
    SourceSystem: "municipality",
    Case: "municipality",
    Document: "municipality",
    Grant: "municipality",
    GrantedBenefit: "grant__municipality",
    Payment: "municipality",
    Change: "source_system__municipality",
    DataAccess: "municipality",
}
# Models reached only through foreign keys and inlines.
for model, path in (
    (ApiCredential, "source_system__municipality"),
    (CaseDocument, "case__municipality"),
    (CaseProgress, "case__municipality"),
    (PaymentPlan, "benefit__grant__municipality"),
):
    scope_register(model=model, path=path)


class DataAccessAdmin(indexes.admin.ReadOnlyAdminMixin, admin.ModelAdmin):
    """The citizens' access log (what they see under "Hvem har set mine data"), CPR masked;
    the reader's account and the internal note are the admin's audit trail."""

    list_display = (
        "accessed_at",
        "citizen_masked",
        "actor_type",
        "municipality",
        "channel",
        "record_kind",
        "user",
    )
    list_filter = ("actor_type", "channel", "record_kind")
    list_select_related = ("municipality", "user")
    fields = (
        "accessed_at",
        "citizen_masked",
        "actor_type",
        "municipality",
        "source_system",
        "channel",
        "record_kind",
        "subject",
        "actor_masked",
        "actor_name",
        "actor_relation",
        "user",
        "detail_masked",
    )
    readonly_fields = fields

    @admin.display(description=_("læser (CPR)"))
    def actor_masked(self, obj) -> str:
        return indexes.admin.cpr_mask(obj.actor_cpr) if obj.actor_cpr else ""

    @admin.display(description=_("borger (CPR)"))
    def citizen_masked(self, obj) -> str:
        return indexes.admin.cpr_mask(obj.citizen_cpr)

    @admin.display(description=_("intern note"))
    def detail_masked(self, obj) -> str:
        return cpr_shapes_mask(obj.detail)


class CitizenListAccessMixin:
    """A changelist of records about citizens logs one read per citizen on the page shown
    (one INSERT), as opening one record does (``CitizenRecordAdmin.change_view``)."""

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is None or response.status_code != 200:
            return response
        # Evaluate the page once; the template reads the same list.
        changelist.result_list = list(changelist.result_list)
        data_access_record_many(
            reads=records_citizens(model=self.model, ids=[o.pk for o in changelist.result_list]),
            channel=DataAccess.Channel.ADMIN_LIST,
            record_kind=RECORD_KINDS[self.model],
            detail=f"{self.model._meta.verbose_name_plural}",
            user=request.user,
            **self.access_actor(request),
        )
        return response


class CitizenDetailAccessMixin:
    """Opening a record that is a citizen's without a CPR column of its own (a granted
    benefit, a document, a change-log entry) logs a read for each citizen it belongs to."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = (getattr(response, "context_data", None) or {}).get("original")
        if obj is not None and response.status_code == 200:
            data_access_record_many(
                reads=records_citizens(model=self.model, ids=[obj.pk]),
                channel=DataAccess.Channel.ADMIN_RECORD,
                record_kind=RECORD_KINDS[self.model],
                detail=f"{obj._meta.verbose_name}: {obj}",
                user=request.user,
                **self.access_actor(request),
            )
        return response


# Index models whose rows are a citizen's without a CPR column of their own.
CITIZEN_RECORDS_WITHOUT_CPR = (GrantedBenefit, Document, Change)


def admin_actor(request) -> dict:
    """Who reads, as the citizen sees it: the national operators or the municipality's
    staff (a role and an organisation; the user is kept for the audit, never shown)."""
    user = request.user
    if is_operator(user=user):
        return {"actor_type": DataAccess.Actor.OPERATOR, "municipality": None}
    municipalities = list(municipalities_for_user(user=user))
    return {
        "actor_type": DataAccess.Actor.MUNICIPAL_ADMIN,
        "municipality": municipalities[0] if len(municipalities) == 1 else None,
    }


class ReadOnlyIndexAdmin(indexes.admin.ReadOnlyAdminMixin, admin.ModelAdmin):
    """For an index model the indexes app does not register: shown, never edited, its
    text with CPR-shaped numbers masked (DOMAIN.md §6)."""

    def get_queryset(self, request):
        return queryset_cpr_masked(super().get_queryset(request))


def _access_actor(self, request) -> dict:
    """A municipal admin reads as their municipality's administrator (the citizen sees this)."""
    if request.user.is_superuser:
        # The wrapped admin's own actor: super() of the class this function is set on (the
        # class may have been subclassed since, e.g. by borgerblikket.admin.hardening).
        scoped = next(
            c for c in type(self).__mro__ if c.__dict__.get("access_actor") is _access_actor
        )
        return super(scoped, self).access_actor(request)
    return admin_actor(request)


def scoped_index_admins_register(site: admin.AdminSite = admin.site) -> None:
    """Re-register the indexes' admins (or plain ones) with the municipality scope in front."""
    for model, path in SCOPED_INDEX_ADMINS.items():
        if not site.is_registered(model):
            site.register(model, DataAccessAdmin if model is DataAccess else ReadOnlyIndexAdmin)
        base = type(site.get_model_admin(model))
        if issubclass(base, MunicipalityScopedAdminMixin):
            continue
        attrs = {
            "__module__": __name__,
            "municipality_path": path,
        }
        bases = (MunicipalityScopedAdminMixin, base)
        if hasattr(base, "access_actor"):
            attrs["access_actor"] = _access_actor
            bases = (CitizenListAccessMixin, *bases)
        elif model in CITIZEN_RECORDS_WITHOUT_CPR:
            attrs["access_actor"] = lambda self, request: admin_actor(request)
            bases = (CitizenListAccessMixin, CitizenDetailAccessMixin, *bases)
        scoped = type(f"Scoped{base.__name__}", bases, attrs)
        site.unregister(model)
        site.register(model, scoped)


scoped_index_admins_register()
