"""Admin of the configuration sheets: rows, switches, history (with revert), import and export.

Every write calls ``borgerblikket.services``; every class is scoped to the
user's municipalities by ``MunicipalityScopedAdminMixin``.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from borgerblikket import validators
from borgerblikket.admin.scoping import (
    MunicipalityScopedAdminMixin,
    scope_queryset,
    scope_register,
)
from borgerblikket.models import (
    MandatoryKleNumber,
    Membership,
    RolloutStage,
    Sheet,
    SheetChange,
    SheetImport,
    SheetRow,
    TitleAbbreviation,
    TitleLeadWord,
)
from borgerblikket.roles import OPERATOR_GROUP
from borgerblikket.selectors.scoping import (
    areas_for_user,
    is_operator,
    kle_number_in_areas,
    user_may,
)
from borgerblikket.services.sheet_io import (
    CONTENT_TYPES,
    FORMATS,
    SheetFileError,
    sheet_export,
    sheet_import_apply,
    sheet_import_start,
    sheet_upload_read,
)
from borgerblikket.services.sheets import (
    ROW_FIELDS,
    SETTINGS_FIELDS,
    SheetError,
    kle_subject_for_sheet,
    sheet_change_revert,
    sheet_row_delete,
    sheet_row_save,
    sheet_settings_update,
)

scope_register(model=SheetImport, path="municipality")


class SheetDateField(forms.DateField):
    """A date as the sheet writes it, whatever the admin's language.

    Shown as DD-MM-ÅÅÅÅ (the sheet's, the list's and the export's form) and read by
    the import's own rule (``validators.date_parse``: DD-MM-ÅÅÅÅ with ``-``, ``.`` or
    ``/``, or ÅÅÅÅ-MM-DD), so what the form shows is always accepted — also Django's
    Danish ``04.01.2020`` and English ``2020-01-04`` (issue 11.9).
    """

    widget = forms.DateInput(format="%d-%m-%Y")

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return validators.date_parse(value)
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from None


class SheetRowForm(forms.ModelForm):
    """A sheet row as the sheet has it: KLE-nr. typed, dates DD-MM-YYYY or ISO, phone with spaces."""

    # The admin sets the user (an area admin adds rows of their areas only).
    user = None

    kle_number = forms.CharField(label=_("KLE-nr."), max_length=8)
    show_from = SheetDateField(
        label=_("Fradato for visning"), help_text=_("DD-MM-ÅÅÅÅ eller ÅÅÅÅ-MM-DD")
    )
    contact_phone = forms.CharField(label=_("Kontakttelefon"), max_length=20, required=False)
    # Plain text checked by the sheet's own rule: an http(s) URL, never a guessed scheme.
    info_url = forms.CharField(label=_("Link til yderligere information"), required=False)
    digital_post_url = forms.CharField(
        label=_("Digitalpost kontaktpunkt (postkasse)"), required=False
    )
    self_service_url = forms.CharField(label=_("Selvbetjeningslink"), required=False)

    class Meta:
        model = SheetRow
        fields = ("municipality", "kle_number", *ROW_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.warnings: list[str] = []
        if self.instance.pk:
            # A role that may only view gets every field read-only (none in the form).
            for name in ("kle_number", "municipality"):
                if name in self.fields:
                    self.fields[name].disabled = True
            if "kle_number" in self.fields:
                self.fields["kle_number"].initial = self.instance.kle_subject.number

    def clean_kle_number(self):
        if self.instance.pk:
            # The row's KLE emne is fixed; it may have expired since, and the row stays editable.
            return self.instance.kle_subject
        try:
            return kle_subject_for_sheet(number=self.cleaned_data["kle_number"])
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def clean_contact_phone(self):
        try:
            return validators.phone_parse(self.cleaned_data.get("contact_phone"))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def _clean_link(self, name):
        try:
            return validators.link_parse(self.cleaned_data.get(name))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def clean_info_url(self):
        return self._clean_link("info_url")

    def clean_digital_post_url(self):
        return self._clean_link("digital_post_url")

    def clean_self_service_url(self):
        return self._clean_link("self_service_url")

    def clean(self):
        cleaned = super().clean()
        municipality = cleaned.get("municipality") or getattr(self.instance, "municipality", None)
        subject = cleaned.get("kle_number")
        system = cleaned.get("source_system")
        if (
            system is not None
            and municipality is not None
            and system.municipality_id != municipality.pk
        ):
            self.add_error("source_system", _("Fagsystemet hører til en anden kommune"))
        if (
            not self.instance.pk
            and subject is not None
            and municipality is not None
            and SheetRow.objects.filter(municipality=municipality, kle_subject=subject).exists()
        ):
            self.add_error("kle_number", _("KLE-nummeret står allerede i kommunens ark"))
        for name in ("info_url", "digital_post_url", "self_service_url"):
            for warning in validators.link_warnings(cleaned.get(name) or ""):
                self.warnings.append(f"{self.fields[name].label}: {warning}")
        areas = (
            areas_for_user(user=self.user, municipality=municipality.pk)
            if municipality is not None and self.user is not None
            else None
        )
        if (
            not self.instance.pk
            and subject is not None
            and not kle_number_in_areas(number=subject.number, areas=areas)
        ):
            self.add_error(
                "kle_number",
                _("KLE-nummeret ligger uden for dine områder (%(areas)s)")
                % {"areas": ", ".join(areas)},
            )
        name = cleaned.get("display_name") or ""
        if subject is not None and name and name != subject.title:
            self.warnings.append(f"KLE-navn '{name}' afviger fra KLE's titel '{subject.title}'")
        return cleaned


class ImportForm(forms.Form):
    municipality = forms.ModelChoiceField(queryset=None, label=_("Kommune"))
    file = forms.FileField(label=_("Konfigurationsark (XLSX, CSV eller TSV)"))

    def __init__(self, *args, municipalities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipality"].queryset = municipalities
        if municipalities.count() == 1:
            self.fields["municipality"].initial = municipalities.first()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
        if extension not in FORMATS:
            raise ValidationError(_("Filen skal være .xlsx, .csv eller .tsv"))
        return upload


class ExportForm(forms.Form):
    municipality = forms.ModelChoiceField(queryset=None, label=_("Kommune"))
    file_format = forms.ChoiceField(
        label=_("Format"), choices=[("xlsx", "XLSX"), ("csv", "CSV"), ("tsv", "TSV")]
    )

    def __init__(self, *args, municipalities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipality"].queryset = municipalities


@admin.register(SheetRow)
class SheetRowAdmin(MunicipalityScopedAdminMixin, admin.ModelAdmin):
    form = SheetRowForm
    area_path = "kle_subject__number"
    list_display = (
        "kle_number",
        "name",
        "source_system",
        "show_from_shown",
        "processing_time_shown",
        "contact_department",
        "contact_phone",
        "municipality",
    )
    list_select_related = ("municipality", "kle_subject", "source_system")
    search_fields = ("^kle_subject__number", "display_name", "kle_subject__title")
    change_list_template = "borgerblikket/admin/sheetrow_change_list.html"
    scoped_list_filters = ("municipality", "source_system")

    @admin.display(description=_("KLE-nr."), ordering="kle_subject__number")
    def kle_number(self, obj):
        return obj.kle_subject.number

    @admin.display(description=_("KLE-navn"))
    def name(self, obj):
        return obj.display_name or obj.kle_subject.title

    @admin.display(description=_("Fradato for visning"), ordering="show_from")
    def show_from_shown(self, obj):
        return validators.date_format(obj.show_from)

    @admin.display(description=_("Sagsbehandlingsfrist"))
    def processing_time_shown(self, obj):
        return validators.processing_time_format(obj.processing_time, obj.processing_time_unit)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "municipality" and formfield is not None:
            # A row is added only where the user's role may add rows.
            formfield.queryset = scope_queryset(
                formfield.queryset, user=request.user, perm="borgerblikket.add_sheetrow"
            )
        return formfield

    def changelist_view(self, request, extra_context=None):
        user = request.user
        may = {
            "import": self.has_action_permission(request, "import"),
            "export": self.has_action_permission(request, "export"),
            "preview": user_may(user=user, perm="borgerblikket.preview_citizen"),
            "quality": user_may(user=user, perm="borgerblikket.view_quality"),
            "kle": user_may(user=user, perm="borgerblikket.view_kleimpactreport"),
        }
        return super().changelist_view(request, {**(extra_context or {}), "may": may})

    def save_model(self, request, obj, form, change):
        subject = form.cleaned_data["kle_number"]
        municipality = obj.municipality
        values = {name: form.cleaned_data[name] for name in ROW_FIELDS}
        if values["display_name"] == subject.title:
            values["display_name"] = ""
        row, _change = sheet_row_save(
            municipality=municipality, kle_subject=subject, values=values, user=request.user
        )
        obj.pk = row.pk
        obj.kle_subject = subject
        for warning in form.warnings:
            messages.warning(request, warning)

    def delete_model(self, request, obj):
        sheet_row_delete(row=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for row in queryset.select_related("kle_subject", "source_system", "municipality"):
            sheet_row_delete(row=row, user=request.user)

    # --- import and export ------------------------------------------------------------------
    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="borgerblikket_sheetrow_import"),
            path(
                "import/<uuid:import_id>/confirm/",
                wrap(require_POST(self.import_confirm_view)),
                name="borgerblikket_sheetrow_import_confirm",
            ),
            path("export/", wrap(self.export_view), name="borgerblikket_sheetrow_export"),
            *super().get_urls(),
        ]

    def _context(self, request, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "app_label": self.model._meta.app_label,
            **extra,
        }

    def import_view(self, request):
        """Upload a sheet and see what it will do; nothing is saved before the confirmation."""
        if not self.has_action_permission(request, "import"):
            raise PermissionDenied
        municipalities = self.scoped_municipalities(request, "import")
        form = ImportForm(
            request.POST or None, request.FILES or None, municipalities=municipalities
        )
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            file_format = upload.name.rsplit(".", 1)[-1].lower()
            try:
                municipality = form.cleaned_data["municipality"]
                sheet_import, plan = sheet_import_start(
                    municipality=municipality,
                    user=request.user,
                    areas=areas_for_user(user=request.user, municipality=municipality.pk),
                    file_name=upload.name,
                    content=sheet_upload_read(upload=upload),
                    file_format=file_format,
                )
            except SheetFileError as exc:
                form.add_error("file", str(exc))
            else:
                return TemplateResponse(
                    request,
                    "borgerblikket/admin/import_preview.html",
                    self._context(
                        request,
                        title=_("Forhåndsvisning af import"),
                        sheet_import=sheet_import,
                        plan=plan,
                    ),
                )
        return TemplateResponse(
            request,
            "borgerblikket/admin/import.html",
            self._context(request, title=_("Importér konfigurationsark"), form=form),
        )

    def import_confirm_view(self, request, import_id):
        if not self.has_action_permission(request, "import"):
            raise PermissionDenied
        sheet_import = SheetImport.objects.filter(
            pk=import_id,
            user=request.user,
            municipality__in=self.scoped_municipalities(request, "import"),
        ).first()
        if sheet_import is None:
            raise Http404
        try:
            plan = sheet_import_apply(
                sheet_import=sheet_import,
                user=request.user,
                areas=areas_for_user(user=request.user, municipality=sheet_import.municipality_id),
            )
        except (SheetError, SheetFileError) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Importeret: %(added)d tilføjet, %(changed)d ændret, %(rejected)d afvist.")
                % {
                    "added": len(plan.added),
                    "changed": len(plan.changed),
                    "rejected": len(plan.rejected),
                },
            )
        return HttpResponseRedirect(reverse("admin:borgerblikket_sheetrow_changelist"))

    def export_view(self, request):
        """Download one municipality's sheet in the sheet's columns."""
        if not self.has_action_permission(request, "export"):
            raise PermissionDenied
        municipalities = self.scoped_municipalities(request, "export")
        form = ExportForm(request.GET or None, municipalities=municipalities)
        if request.GET and form.is_valid():
            municipality = form.cleaned_data["municipality"]
            file_format = form.cleaned_data["file_format"]
            data = sheet_export(
                municipality=municipality,
                file_format=file_format,
                areas=areas_for_user(user=request.user, municipality=municipality.pk),
            )
            response = HttpResponse(data, content_type=CONTENT_TYPES[file_format])
            response["Content-Disposition"] = (
                f'attachment; filename="konfigurationsark-{municipality.code}.{file_format}"'
            )
            return response
        if request.GET and "municipality" in form.errors:
            raise Http404
        return TemplateResponse(
            request,
            "borgerblikket/admin/export.html",
            self._context(request, title=_("Eksportér konfigurationsark"), form=form),
        )


class SheetForm(forms.ModelForm):
    class Meta:
        model = Sheet
        fields = ("municipality", *SETTINGS_FIELDS)


@admin.register(Sheet)
class SheetAdmin(MunicipalityScopedAdminMixin, admin.ModelAdmin):
    """The municipality's switches (document titles, active cases before fradato, title)."""

    form = SheetForm
    municipality_path = "municipality"
    list_display = (
        "municipality",
        "show_document_titles",
        "show_active_cases_before_show_from",
        "title_source",
        "idle_days",
        "updated_at",
    )
    list_select_related = ("municipality",)

    def get_readonly_fields(self, request, obj=None):
        return ("municipality",) if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in SETTINGS_FIELDS}
        sheet, _change = sheet_settings_update(
            municipality=obj.municipality, values=values, user=request.user
        )
        obj.pk = sheet.pk


@admin.register(SheetChange)
class SheetChangeAdmin(MunicipalityScopedAdminMixin, admin.ModelAdmin):
    """The history of every sheet: who, when, before → after; any change can be reverted."""

    area_path = "kle_number"
    list_display = ("changed_at", "municipality", "kle_number", "target", "action", "via", "user")
    list_filter = ("target", "action", "via")
    search_fields = ("^kle_number",)
    list_select_related = ("municipality", "user")
    actions = ["revert_selected"]
    fields = (
        "municipality",
        "target",
        "kle_number",
        "action",
        "via",
        "user",
        "changed_at",
        "difference",
        "reverts",
    )
    readonly_fields = fields
    scoped_list_filters = ("municipality",)
    change_form_template = "borgerblikket/admin/sheetchange_change_form.html"

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revert_permission(self, request, obj=None):
        return self.has_action_permission(request, "revert", obj)

    @admin.display(description=_("før → efter"))
    def difference(self, obj):
        before, after = _joined(obj.before or {}), _joined(obj.after or {})
        names = [n for n in dict.fromkeys([*before, *after]) if n != "source_system_id"]
        rows = (
            (name, _shown(before.get(name)), _shown(after.get(name)))
            for name in names
            if before.get(name) != after.get(name)
        )
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td><td>→ {}</td></tr>", rows),
        )

    @admin.action(description=_("Fortryd de valgte ændringer"), permissions=["revert"])
    def revert_selected(self, request, queryset):
        self._revert(request, queryset.order_by("-changed_at", "-id"))

    def _revert(self, request, changes):
        for change in changes:
            try:
                new = sheet_change_revert(change=change, user=request.user)
            except SheetError as exc:
                messages.error(request, f"{change}: {exc.message}")
                continue
            if new is None:
                messages.info(request, f"{change}: {_('arket er allerede sådan')}")
            else:
                messages.success(request, f"{change}: {_('fortrudt')}")

    def get_urls(self):
        return [
            path(
                "<int:change_id>/revert/",
                self.admin_site.admin_view(require_POST(self.revert_view)),
                name="borgerblikket_sheetchange_revert",
            ),
            *super().get_urls(),
        ]

    def revert_view(self, request, change_id):
        change = self.get_object(request, str(change_id))
        if not self.has_revert_permission(request, change):
            raise PermissionDenied
        self._revert(request, [change])
        return HttpResponseRedirect(reverse("admin:borgerblikket_sheetchange_changelist"))

    def render_change_form(self, request, context, *args, **kwargs):
        context["can_revert"] = self.has_revert_permission(request, kwargs.get("obj"))
        return super().render_change_form(request, context, *args, **kwargs)


def _joined(snapshot: dict) -> dict:
    """A row's snapshot with its processing time as the sheet writes it ("8 uger")."""
    if "processing_time" not in snapshot and "processing_time_unit" not in snapshot:
        return snapshot
    joined = {k: v for k, v in snapshot.items() if k != "processing_time_unit"}
    joined["processing_time"] = (
        validators.processing_time_format(
            snapshot.get("processing_time"), snapshot.get("processing_time_unit") or ""
        )
        or None
    )
    return joined


def _shown(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("ja") if value else _("nej")
    return str(value)


class MembershipForm(forms.ModelForm):
    """A user's role in a municipality; an area admin's areas are KLE main groups or groups."""

    class Meta:
        model = Membership
        fields = ("user", "municipality", "role", "areas")

    def clean(self):
        cleaned = super().clean()
        role, areas = cleaned.get("role"), cleaned.get("areas")
        if role == Membership.Role.AREA and not areas:
            self.add_error("areas", _("En områdeadministrator skal have mindst ét område"))
        if role and role != Membership.Role.AREA and areas:
            self.add_error("areas", _("Kun en områdeadministrator har områder"))
        return cleaned


@admin.register(Membership)
class MembershipAdmin(MunicipalityScopedAdminMixin, admin.ModelAdmin):
    """Who works in which municipality, in which role. A municipal lead admin manages the
    memberships of their own municipality; operators and superusers those of all."""

    form = MembershipForm
    list_display = ("user", "municipality", "role", "areas_shown", "created_at")
    list_filter = ("role",)
    list_select_related = ("user", "municipality")
    search_fields = ("user__username", "municipality__name", "^municipality__code")
    filter_horizontal = ("areas",)
    scoped_list_filters = ("municipality",)

    @admin.display(description=_("områder"))
    def areas_shown(self, obj):
        return ", ".join(s.number for s in obj.areas.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("areas")

    def get_readonly_fields(self, request, obj=None):
        # A membership is of one user in one municipality; its role and areas change.
        return ("user", "municipality") if obj else ()

    def get_autocomplete_fields(self, request):
        # Searching every account is for superusers (who may view users at all).
        return ("user", "municipality") if request.user.is_superuser else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is None:
            return formfield
        if db_field.name == "municipality":
            formfield.queryset = scope_queryset(
                formfield.queryset, user=request.user, perm="borgerblikket.add_membership"
            )
        elif db_field.name == "user" and not request.user.is_superuser:
            formfield.queryset = self._users_offered(request, formfield.queryset)
        return formfield

    def _users_offered(self, request, queryset):
        """Staff accounts (no superusers, no operators) not working for another municipality:
        a lead admin never learns of another municipality's staff."""
        queryset = queryset.filter(is_staff=True, is_superuser=False).exclude(
            groups__name=OPERATOR_GROUP
        )
        if is_operator(user=request.user):
            return queryset.order_by("username")
        own = self.scoped_municipalities(request, "add")
        return (
            queryset.exclude(
                borgerblikket_memberships__in=Membership.objects.exclude(municipality__in=own)
            )
            .distinct()
            .order_by("username")
        )


class OperatorOnlyAdmin(admin.ModelAdmin):
    """National data the national operators edit (Django's permissions of the operators'
    group, docs/roles.md); municipal roles have none of them."""


@admin.register(MandatoryKleNumber)
class MandatoryKleNumberAdmin(OperatorOnlyAdmin):
    list_display = ("kle_number", "area", "note")
    change_list_template = "borgerblikket/admin/mandatoryklenumber_change_list.html"
    search_fields = ("^kle_number", "area")


@admin.register(TitleAbbreviation)
class TitleAbbreviationAdmin(OperatorOnlyAdmin):
    list_display = ("text",)
    search_fields = ("text",)


@admin.register(TitleLeadWord)
class TitleLeadWordAdmin(OperatorOnlyAdmin):
    list_display = ("text",)
    search_fields = ("text",)


@admin.register(RolloutStage)
class RolloutStageAdmin(OperatorOnlyAdmin):
    """The roll-out stages the map filters on (``etape:<slug>``); the model's ``clean`` keeps
    the numbers sorted and refuses what is no KLE emne."""

    list_display = ("slug", "name", "kle_numbers")
    change_list_template = "borgerblikket/admin/mandatoryklenumber_change_list.html"
    search_fields = ("slug", "name", "kle_numbers")
