"""The operators' admin of API keys: issue, rotate, revoke; a key is shown once.

For operators (superusers) only: a municipal admin sees no key, not even on its
source systems' pages. Issuing renders the key on the answer to the form (``no-store``)
and nowhere after: only its SHA-256 is kept. Rotating issues the successor and shows
it once the same way; the old key keeps working for the overlap the operator chose
(default ``INDEXES_API_KEY_ROTATION_OVERLAP``). Every issue, rotation and revocation
is an ``ApiCredentialEvent`` (who, when), shown on the key's page.
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from indexes.models import ApiCredential, ApiCredentialEvent, SourceSystem
from indexes.services.credentials import (
    CredentialScopeError,
    credential_create,
    credential_revoke,
    credential_rotate,
    credential_scope_check,
    rotation_overlap,
)


class OperatorOnlyMixin:
    """Operators (superusers) only; nobody else sees the pages or their links."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request, *args):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        # Once issued, a key's fields never change: it is rotated or revoked (own views).
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a key is revoked, never deleted: its audit stays

    def is_operator(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser


class ApiCredentialAddForm(forms.ModelForm):
    """Issue a key: one installation, or a product and some of its installations."""

    class Meta:
        model = ApiCredential
        fields = ("label", "source_system", "product", "installations", "expires_at")

    def clean(self):
        data = super().clean()
        system = data.get("source_system")
        product = data.get("product") or ""
        installations = list(data.get("installations") or [])
        try:
            credential_scope_check(system, product, installations)
        except CredentialScopeError as error:
            raise forms.ValidationError(str(error)) from None
        return data


class RotateForm(forms.Form):
    overlap_hours = forms.IntegerField(
        label=_("Overlap (timer)"),
        min_value=0,
        max_value=24 * 90,
        help_text=_("Så længe virker den gamle nøgle sammen med den nye."),
    )


class ApiCredentialEventInline(admin.TabularInline):
    model = ApiCredentialEvent
    fields = ("at", "action", "actor", "detail")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


class ApiCredentialAdmin(OperatorOnlyMixin, admin.ModelAdmin):
    list_display = (
        "key_id",
        "label",
        "scope",
        "created_at",
        "expires_at",
        "last_used_at",
        "status",
    )
    list_filter = ("product", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("key_id", "label", "source_system__name", "installations__name")
    list_select_related = ("source_system", "source_system__municipality")
    filter_horizontal = ("installations",)
    inlines = [ApiCredentialEventInline]
    actions = ["revoke_selected"]
    change_form_template = "indexes/admin/apicredential_change_form.html"

    @admin.display(description=_("gælder for"))
    def scope(self, obj) -> str:
        if obj.source_system_id:
            return str(obj.source_system)
        names = ", ".join(str(s) for s in obj.installations.all()[:5])
        return f"{obj.product}: {names}"

    @admin.display(description=_("status"))
    def status(self, obj) -> str:
        if obj.revoked_at:
            return _("tilbagekaldt")
        if not obj.is_active:
            return _("udløbet")
        if obj.replaced_by_id:
            return _("roteret (virker til udløb)")
        return _("aktiv")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiCredentialAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ApiCredentialAddForm.Meta.fields
        return (
            "key_id",
            "label",
            "source_system",
            "product",
            "installations_shown",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "replaced_by",
        )

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj is not None else ()

    @admin.display(description=_("installationer (Source-System)"))
    def installations_shown(self, obj) -> str:
        return ", ".join(f"{s.pk} = {s}" for s in obj.installations.all()) or "-"

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    # --- issue: the key on the answer to the form, never again ---------------------------

    def save_model(self, request, obj, form, change):
        if change:
            raise PermissionDenied  # never reached: a key cannot be changed
        data = form.cleaned_data
        credential, key = credential_create(
            source_system=data.get("source_system"),
            product=data.get("product") or "",
            installations=list(data.get("installations") or []),
            label=data.get("label") or "",
            expires_at=data.get("expires_at"),
            user=request.user,
        )
        obj.pk, obj.key_id, obj.created_at = credential.pk, credential.key_id, credential.created_at
        request._issued_key = (credential, key)

    def save_related(self, request, form, formsets, change):
        """The service set the installations."""

    def response_add(self, request, obj, post_url_continue=None):
        credential, key = request._issued_key
        return self._key_shown(request, credential, key, _("API-nøgle udstedt"))

    def _key_shown(self, request, credential, key, title):
        credential = ApiCredential.objects.select_related("source_system").get(pk=credential.pk)
        response = TemplateResponse(
            request,
            "indexes/admin/apicredential_issued.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": title,
                "credential": credential,
                "key": key,
                "installations": list(credential.installations.all()),
                "change_url": reverse("admin:indexes_apicredential_change", args=[credential.pk]),
            },
        )
        # The only time the key is sent: no cache may keep it.
        response["Cache-Control"] = "no-store"
        return response

    # --- rotate and revoke -------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/rotate/",
                view(self.rotate_view),
                name="indexes_apicredential_rotate",
            ),
            path(
                "<path:object_id>/revoke/",
                view(self.revoke_view),
                name="indexes_apicredential_revoke",
            ),
            *super().get_urls(),
        ]

    def _credential(self, request, object_id) -> ApiCredential:
        if not self.is_operator(request):
            raise PermissionDenied
        credential = self.get_object(request, object_id)
        if credential is None:
            raise Http404
        return credential

    def rotate_view(self, request, object_id):
        credential = self._credential(request, object_id)
        default_hours = int(rotation_overlap() / timedelta(hours=1))
        form = RotateForm(request.POST or None, initial={"overlap_hours": default_hours})
        if request.method == "POST" and form.is_valid() and credential.revoked_at is None:
            new, key = credential_rotate(
                credential=credential,
                overlap=timedelta(hours=form.cleaned_data["overlap_hours"]),
                user=request.user,
            )
            return self._key_shown(request, new, key, _("API-nøgle roteret"))
        return TemplateResponse(
            request,
            "indexes/admin/apicredential_confirm.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Rotér API-nøgle"),
                "credential": credential,
                "form": form,
                "action": "rotate",
            },
        )

    def revoke_view(self, request, object_id):
        credential = self._credential(request, object_id)
        if request.method == "POST":
            credential_revoke(credential=credential, user=request.user)
            self.message_user(request, _("Nøglen er tilbagekaldt."), messages.SUCCESS)
            return HttpResponseRedirect(
                reverse("admin:indexes_apicredential_change", args=[credential.pk])
            )
        return TemplateResponse(
            request,
            "indexes/admin/apicredential_confirm.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Tilbagekald API-nøgle"),
                "credential": credential,
                "action": "revoke",
            },
        )

    @admin.action(description=_("Tilbagekald valgte API-nøgler"))
    def revoke_selected(self, request, queryset):
        count = 0
        for credential in queryset.filter(revoked_at__isnull=True):
            credential_revoke(credential=credential, user=request.user)
            count += 1
        self.message_user(request, _("%(count)d nøgler tilbagekaldt.") % {"count": count})

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


def installation_keys_link(obj: SourceSystem) -> str:
    """A link to the keys of a source system (for the operators' source system page)."""
    url = reverse("admin:indexes_apicredential_changelist") + f"?source_system__id__exact={obj.pk}"
    return format_html('<a href="{}">{}</a>', url, _("API-nøgler"))


admin.site.register(ApiCredential, ApiCredentialAdmin)
