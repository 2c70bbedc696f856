"""The units' approved KLE numbers (issue 16): kept by the municipality's admins, read by
managers and operators; data quality flags a unit's cases on other numbers."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from borgerblikket.admin.scoping import MunicipalityScopedAdminMixin
from borgerblikket.models import ApprovedKleNumber
from kle.models import Subject


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


@admin.register(ApprovedKleNumber)
class ApprovedKleNumberAdmin(MunicipalityScopedAdminMixin, admin.ModelAdmin):
    form = ApprovedKleNumberForm
    list_display = ("unit", "kle_number", "source_system", "municipality")
    list_select_related = ("municipality", "source_system")
    search_fields = ("unit", "^kle_number")
