"""One scoping mechanism for every admin a municipal admin may use.

``MunicipalityScopedAdminMixin`` narrows a ``ModelAdmin`` to the municipalities
of the user's memberships (superusers see all) on every path: the changelist
and its actions (``get_queryset``), objects opened by URL id (``get_object``:
404, never a redirect that tells the object exists), foreign-key choices in
forms and in autocomplete (``formfield_for_*`` and the remote admin's own
queryset), related-field list filters, and the permission checks. Import and
export views take their municipality from ``scoped_municipalities``.

Each scoped admin declares ``municipality_path``, the lookup from its model to
``Municipality``; the path is registered per model so that any other admin
pointing at the model (a foreign key, a filter) scopes it the same way.
"""

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import Http404

from borgerblikket.selectors.scoping import (
    is_municipal_admin,
    municipalities_for_user,
    municipality_codes_for_user,
)
from indexes.models import Municipality

# model → lookup from the model to the municipality's code.
SCOPE_PATHS: dict[type[Model], str] = {Municipality: "pk"}


def scope_register(*, model: type[Model], path: str) -> None:
    """Declare how a model belongs to a municipality (``"municipality"``, ``"case__municipality"``)."""
    SCOPE_PATHS[model] = path
    for proxy in _proxies_of(model):
        SCOPE_PATHS.setdefault(proxy, path)


def _proxies_of(model):
    return [m for m in model.__subclasses__() if getattr(m._meta, "proxy", False)]


def _path_for(model: type[Model]) -> str | None:
    if model in SCOPE_PATHS:
        return SCOPE_PATHS[model]
    concrete = model._meta.concrete_model
    return SCOPE_PATHS.get(concrete)


def scope_queryset(queryset: QuerySet, *, user) -> QuerySet:
    """A queryset narrowed to the user's municipalities when its model is scoped."""
    path = _path_for(queryset.model)
    if path is None:
        return queryset
    codes = municipality_codes_for_user(user=user)
    if codes is None:
        return queryset
    return queryset.filter(**{f"{path}__in": codes})


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A related-field filter that offers only the objects the user may see."""

    def field_choices(self, field, request, model_admin):
        queryset = scope_queryset(field.related_model._default_manager.all(), user=request.user)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            queryset = queryset.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in queryset]


class _MunicipalInlineMixin:
    """An inline a municipal admin sees read-only when they may view its parent."""

    def has_view_permission(self, request, obj=None):
        return True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return scope_queryset(super().get_queryset(request), user=request.user)


class MunicipalityScopedAdminMixin:
    """Put before ``admin.ModelAdmin`` (or a subclass) to scope it to the user's municipalities."""

    municipality_path = "municipality"
    # What a municipal admin may do here ("view", "add", "change", "delete"); superusers
    # keep the wrapped admin's own rules.
    municipal_admin_permissions: frozenset[str] = frozenset({"view"})
    # Related fields offered as list filters to everyone (scoped choices).
    scoped_list_filters: tuple[str, ...] = ("municipality", "source_system")

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        scope_register(model=model, path=self.municipality_path)

    # --- who may do what -----------------------------------------------------------------
    def is_municipal_admin(self, request) -> bool:
        return is_municipal_admin(user=request.user)

    def scoped_municipalities(self, request) -> QuerySet[Municipality]:
        """The municipalities the user acts for (forms, imports, exports, reports)."""
        return municipalities_for_user(user=request.user)

    def _in_scope(self, request, obj) -> bool:
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def _allowed(self, request, action: str, obj=None) -> bool:
        """For a municipal admin: the action is granted here and the object is theirs."""
        if not self.is_municipal_admin(request):
            return False
        granted = self.municipal_admin_permissions
        if action not in granted and not (action == "view" and "change" in granted):
            return False
        return self._in_scope(request, obj)

    def has_module_permission(self, request):
        if request.user.is_superuser:
            return super().has_module_permission(request)
        return self.is_municipal_admin(request) and bool(self.municipal_admin_permissions)

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_view_permission(request, obj)
        return self._allowed(request, "view", obj)

    def has_add_permission(self, request, *args):
        if request.user.is_superuser:
            return super().has_add_permission(request, *args)
        return self._allowed(request, "add")

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_change_permission(request, obj)
        return self._allowed(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_delete_permission(request, obj)
        return self._allowed(request, "delete", obj)

    # --- what they see -----------------------------------------------------------------------
    def get_queryset(self, request):
        return scope_queryset(super().get_queryset(request), user=request.user)

    def get_object(self, request, object_id, from_field=None):
        """An object outside the user's scope (or none at all) is a 404, not a redirect."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("Ikke fundet")
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None and hasattr(formfield, "queryset"):
            formfield.queryset = scope_queryset(formfield.queryset, user=request.user)
        return formfield

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        if formfield is not None and hasattr(formfield, "queryset"):
            formfield.queryset = scope_queryset(formfield.queryset, user=request.user)
        return formfield

    def get_list_filter(self, request):
        names = {f.name for f in self.model._meta.get_fields()}
        filters = list(super().get_list_filter(request))
        for name in self.scoped_list_filters:
            if name in names and name not in filters:
                filters.append(name)
        scoped = []
        for item in filters:
            if isinstance(item, str) and "__" not in item:
                field = self.model._meta.get_field(item)
                if field.is_relation and _path_for(field.related_model) is not None:
                    item = (item, ScopedRelatedFieldListFilter)
            scoped.append(item)
        return scoped

    def get_inline_instances(self, request, obj=None):
        if request.user.is_superuser or not self.is_municipal_admin(request):
            return super().get_inline_instances(request, obj)
        instances = []
        for inline_class in self.get_inlines(request, obj):
            scoped = type(inline_class.__name__, (_MunicipalInlineMixin, inline_class), {})
            instances.append(scoped(self.model, self.admin_site))
        return instances
