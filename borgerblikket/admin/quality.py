"""The units' approved KLE numbers (issue 16): kept by the municipality's admins, read by
managers and operators; data quality flags a unit's cases on other numbers."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from borgerblikket.admin.scoping import MunicipalityScopedAdminMixin
from borgerblikket.models import ApprovedKleNumber
from borgerblikket.services.approved_kle import ApprovedKleFileError, approved_kle_import
from kle.models import Subject

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


class ApprovedKleNumberForm(forms.ModelForm):
    class Meta:
        model = ApprovedKleNumber
        fields = ("municipality", "source_system", "unit", "kle_number")

    def clean_unit(self):
        return self.cleaned_data["unit"].strip()

    def clean_kle_number(self):
        number = self.cleaned_data["kle_number"].strip()
        if not Subject.objects.filter(number=number, level=Subject.Level.TOPIC).exists():
            raise forms.ValidationError(_("Ikke et KLE-emne (xx.xx.xx) i den importerede KLE."))
        return number

    def clean(self):
        cleaned = super().clean()
        municipality, system = cleaned.get("municipality"), cleaned.get("source_system")
        if municipality and system and system.municipality_id != municipality.pk:
            self.add_error("source_system", _("Fagsystemet hører til en anden kommune."))
        return cleaned


class ApprovedKleImportForm(forms.Form):
    municipality = forms.ModelChoiceField(queryset=None, label=_("Kommune"))
    file = forms.FileField(
        label=_("Fil (CSV)"),
        help_text=_("Kolonnerne Enhed og KLE-nr., og evt. Fagsystem (tom: alle kommunens)."),
    )

    def __init__(self, *args, municipalities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipality"].queryset = municipalities
        if municipalities.count() == 1:
            self.fields["municipality"].initial = municipalities.first()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("Filen er for stor (højst 2 MB)."))
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("Filen skal være UTF-8.")) from None


@admin.register(ApprovedKleNumber)
class ApprovedKleNumberAdmin(MunicipalityScopedAdminMixin, admin.ModelAdmin):
    form = ApprovedKleNumberForm
    list_display = ("unit", "kle_number", "source_system", "municipality")
    list_select_related = ("municipality", "source_system")
    search_fields = ("unit", "^kle_number")

    change_list_template = "borgerblikket/admin/approvedklenumber_change_list.html"

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="borgerblikket_approvedklenumber_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """Add a file's lines to a municipality's lists (those who may add rows, for their
        own municipality); rejected lines are named with their line number."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApprovedKleImportForm(
            request.POST or None,
            request.FILES or None,
            municipalities=self.scoped_municipalities(request, "add"),
        )
        if request.method == "POST" and form.is_valid():
            try:
                result = approved_kle_import(
                    municipality=form.cleaned_data["municipality"], text=form.cleaned_data["file"]
                )
            except ApprovedKleFileError as exc:
                form.add_error("file", str(exc))
            else:
                messages.success(
                    request,
                    _t("%(added)s tilføjet, %(unchanged)s fandtes, %(rejected)s afvist.")
                    % {
                        "added": result.added,
                        "unchanged": result.unchanged,
                        "rejected": len(result.rejected),
                    },
                )
                for line, problem in result.rejected[:50]:
                    messages.warning(
                        request,
                        _t("Linje %(line)s: %(problem)s") % {"line": line, "problem": problem},
                    )
                return HttpResponseRedirect(
                    reverse("admin:borgerblikket_approvedklenumber_changelist")
                )
        return TemplateResponse(
            request,
            "borgerblikket/admin/approvedklenumber_import.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "app_label": self.model._meta.app_label,
                "title": _("Importér godkendte KLE-numre"),
                "form": form,
            },
        )
