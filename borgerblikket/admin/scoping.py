"""One scoping mechanism for every admin a municipal admin may use.

``MunicipalityScopedAdminMixin`` narrows a ``ModelAdmin`` to the municipalities
where the user's role permits the action (superusers and national operators
see all; an area admin only the rows of their KLE areas, ``area_path``) on every path: the changelist
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
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404

from borgerblikket.selectors.scoping import (
    area_condition,
    is_municipal_admin,
    is_operator,
    municipalities_for_user,
    municipality_codes_for_user,
    user_may,
)
from indexes.models import Municipality

# model → lookup from the model to the municipality's code.
SCOPE_PATHS: dict[type[Model], str] = {Municipality: "pk"}
# model → lookup to the KLE number an area admin's areas limit (their rows and history).
AREA_PATHS: dict[type[Model], str] = {}


def scope_register(*, model: type[Model], path: str, area_path: str | None = None) -> None:
    """Declare how a model belongs to a municipality (``"municipality"``, ``"case__municipality"``)
    and, for rows an area admin is limited on, the lookup to their KLE number."""
    SCOPE_PATHS[model] = path
    if area_path:
        AREA_PATHS[model] = area_path
    for proxy in _proxies_of(model):
        SCOPE_PATHS.setdefault(proxy, path)
        if area_path:
            AREA_PATHS.setdefault(proxy, area_path)


def _proxies_of(model):
    return [m for m in model.__subclasses__() if getattr(m._meta, "proxy", False)]


def _path_for(model: type[Model], paths=SCOPE_PATHS) -> str | None:
    if model in paths:
        return paths[model]
    concrete = model._meta.concrete_model
    return paths.get(concrete)


def scope_queryset(queryset: QuerySet, *, user, perm: str | None = None) -> QuerySet:
    """A queryset narrowed to the municipalities where the user may ``perm`` (or is a member)
    when its model is scoped, and to an area admin's KLE areas where those apply."""
    path = _path_for(queryset.model)
    if path is None:
        return queryset
    codes = municipality_codes_for_user(user=user, perm=perm)
    if codes is None:
        return queryset
    queryset = queryset.filter(**{f"{path}__in": codes})
    number_path = _path_for(queryset.model, AREA_PATHS)
    if number_path is not None:
        condition = area_condition(user=user, municipality_path=path, number_path=number_path)
        if condition is not None:
            queryset = queryset.filter(condition)
    return queryset


def _perm(model, action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


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
    """Put before ``admin.ModelAdmin`` (or a subclass) to scope it to the user's municipalities.

    What a municipal user may do here is what their role's group permits in the object's
    municipality (``<action>_<model>``, custom actions such as "revert" included); superusers
    and national operators keep the wrapped admin's own rules (Django's permissions)."""

    municipality_path = "municipality"
    # Rows an area admin is limited on: the lookup to the row's KLE number.
    area_path: str | None = None
    # Related fields offered as list filters to everyone (scoped choices).
    scoped_list_filters: tuple[str, ...] = ("municipality", "source_system")

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        scope_register(model=model, path=self.municipality_path, area_path=self.area_path)

    # --- who may do what -----------------------------------------------------------------
    def is_municipal_admin(self, request) -> bool:
        return is_municipal_admin(user=request.user)

    def is_unscoped(self, request) -> bool:
        """Superusers and national operators: every municipality, Django's permissions."""
        return is_operator(user=request.user)

    def scoped_municipalities(self, request, action: str = "view") -> QuerySet[Municipality]:
        """The municipalities where the user may do ``action`` here (forms, imports, exports)."""
        return municipalities_for_user(user=request.user, perm=_perm(self.model, action))

    def _in_scope(self, request, obj, action: str) -> bool:
        if obj is None:
            return True
        queryset = self.model._default_manager.filter(pk=obj.pk)
        return scope_queryset(queryset, user=request.user, perm=_perm(self.model, action)).exists()

    def _allowed(self, request, action: str, obj=None) -> bool:
        """For a municipal user: their role permits the action where the object is."""
        if not self.is_municipal_admin(request):
            return False
        perm = _perm(self.model, action)
        if not user_may(user=request.user, perm=perm):
            return False
        return self._in_scope(request, obj, action)

    def has_action_permission(self, request, action: str, obj=None) -> bool:
        """Custom actions ("revert", "move", "import", "export") by the same rule."""
        if self.is_unscoped(request):
            return request.user.has_perm(_perm(self.model, action))
        return self._allowed(request, action, obj)

    def has_module_permission(self, request):
        if self.is_unscoped(request):
            return super().has_module_permission(request)
        return any(self._allowed(request, action) for action in ("view", "add", "change", "delete"))

    def has_view_permission(self, request, obj=None):
        if self.is_unscoped(request):
            return super().has_view_permission(request, obj)
        return self._allowed(request, "view", obj) or self._allowed(request, "change", obj)

    def has_add_permission(self, request, *args):
        if self.is_unscoped(request):
            return super().has_add_permission(request, *args)
        return self._allowed(request, "add")

    def has_change_permission(self, request, obj=None):
        if self.is_unscoped(request):
            return super().has_change_permission(request, obj)
        return self._allowed(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        if self.is_unscoped(request):
            return super().has_delete_permission(request, obj)
        return self._allowed(request, "delete", obj)

    # --- what they see -----------------------------------------------------------------------
    def get_queryset(self, request):
        return scope_queryset(
            super().get_queryset(request), user=request.user, perm=_perm(self.model, "view")
        )

    def get_object(self, request, object_id, from_field=None):
        """An object outside the user's scope (or none at all) is a 404, not a redirect; a
        user whose role may not see the model at all is refused first (403, any id)."""
        if not (self.has_view_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
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
        if self.is_unscoped(request) or not self.is_municipal_admin(request):
            return super().get_inline_instances(request, obj)
        instances = []
        for inline_class in self.get_inlines(request, obj):
            scoped = type(inline_class.__name__, (_MunicipalInlineMixin, inline_class), {})
            instances.append(scoped(self.model, self.admin_site))
        return instances
