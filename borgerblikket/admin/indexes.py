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
from borgerblikket.selectors.scoping import municipalities_for_user
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
from indexes.services.access import ADMIN_LIST_PURPOSE, data_access_record_many

# model → (lookup to the municipality, what a municipal admin may do there)
SCOPED_INDEX_ADMINS = {
    Municipality: ("pk", {"view"}),
    SourceSystem: ("municipality", {"view", "change"}),
    Case: ("municipality", {"view"}),
    Document: ("municipality", {"view"}),
    Grant: ("municipality", {"view"}),
    GrantedBenefit: ("grant__municipality", {"view"}),
    Payment: ("municipality", {"view"}),
    Change: ("source_system__municipality", {"view"}),
    DataAccess: ("municipality", {"view"}),
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
    """The citizens' access log (what they see under "Hvem har set mine data"), CPR masked."""

    list_display = ("accessed_at", "citizen_masked", "actor_type", "actor_label", "purpose")
    list_filter = ("actor_type",)
    list_select_related = ("municipality",)
    fields = (
        "accessed_at",
        "citizen_masked",
        "actor_type",
        "actor_label",
        "user",
        "municipality",
        "source_system",
        "purpose",
        "detail",
    )
    readonly_fields = fields

    @admin.display(description=_("borger (CPR)"))
    def citizen_masked(self, obj) -> str:
        return indexes.admin.cpr_mask(obj.citizen_cpr)


class CitizenListAccessMixin:
    """A changelist of records about citizens logs one read per citizen on the page shown
    (one INSERT), as opening one record does (``CitizenRecordAdmin.change_view``)."""

    def citizens_of(self, objs) -> list[str]:
        """The CPR numbers of the citizens the records ``objs`` are about."""
        return [getattr(obj, self.cpr_field, None) for obj in objs]

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is None or response.status_code != 200:
            return response
        # Evaluate the page once; the template reads the same list.
        changelist.result_list = list(changelist.result_list)
        data_access_record_many(
            cprs=self.citizens_of(changelist.result_list),
            purpose=ADMIN_LIST_PURPOSE,
            detail=f"admin list: {self.model._meta.verbose_name_plural}"[:255],
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
                cprs=self.citizens_of([obj]),
                purpose="Så posten i administrationen",
                detail=f"{obj._meta.verbose_name}: {obj}"[:255],
                user=request.user,
                **self.access_actor(request),
            )
        return response


def _benefit_citizens(self, objs) -> list[str]:
    grants = Grant.objects.filter(pk__in={b.grant_id for b in objs})
    return list(grants.values_list("party_cpr", flat=True))


def _document_citizens(self, objs) -> list[str]:
    links = CaseDocument.objects.filter(document__in=[d.pk for d in objs])
    return list(links.values_list("case__party_cpr", flat=True))


def _change_citizens(self, objs) -> list[str]:
    ids: dict[str, set[int]] = {}
    for change in objs:
        ids.setdefault(change.record_type, set()).add(change.record_id)
    cprs: list[str] = []
    for kind, model in (("case", Case), ("grant", Grant), ("payment", Payment)):
        if ids.get(kind):
            records = model._base_manager.filter(pk__in=ids[kind])
            cprs += records.values_list("party_cpr", flat=True)
    if ids.get("document"):
        links = CaseDocument.objects.filter(document__in=ids["document"])
        cprs += links.values_list("case__party_cpr", flat=True)
    return cprs


# Index models whose rows are a citizen's without a CPR column: how to find the citizens.
CITIZENS_OF = {
    GrantedBenefit: _benefit_citizens,
    Document: _document_citizens,
    Change: _change_citizens,
}


def admin_actor(request) -> dict:
    """Who reads, as the citizen sees it: the operator or the municipality's administrator."""
    user = request.user
    if user.is_superuser:
        return {
            "actor_type": DataAccess.Actor.OPERATOR,
            "actor_label": f"Administrator {user.get_username()}",
            "municipality": None,
        }
    municipalities = list(municipalities_for_user(user=user))
    names = ", ".join(m.name for m in municipalities)
    return {
        "actor_type": DataAccess.Actor.MUNICIPAL_ADMIN,
        "actor_label": f"{names} Kommune, administrator {user.get_username()}"[:255],
        "municipality": municipalities[0] if len(municipalities) == 1 else None,
    }


class ReadOnlyIndexAdmin(indexes.admin.ReadOnlyAdminMixin, admin.ModelAdmin):
    """For an index model the indexes app does not register: shown, never edited."""


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
    for model, (path, permissions) in SCOPED_INDEX_ADMINS.items():
        if not site.is_registered(model):
            site.register(model, DataAccessAdmin if model is DataAccess else ReadOnlyIndexAdmin)
        base = type(site.get_model_admin(model))
        if issubclass(base, MunicipalityScopedAdminMixin):
            continue
        attrs = {
            "__module__": __name__,
            "municipality_path": path,
            "municipal_admin_permissions": frozenset(permissions),
        }
        bases = (MunicipalityScopedAdminMixin, base)
        if hasattr(base, "access_actor"):
            attrs["access_actor"] = _access_actor
            bases = (CitizenListAccessMixin, *bases)
        elif model in CITIZENS_OF:
            attrs["access_actor"] = lambda self, request: admin_actor(request)
            attrs["citizens_of"] = CITIZENS_OF[model]
            bases = (CitizenListAccessMixin, CitizenDetailAccessMixin, *bases)
        scoped = type(f"Scoped{base.__name__}", bases, attrs)
        site.unregister(model)
        site.register(model, scoped)


scoped_index_admins_register()
