"""KLE in the admin: read-only browsing. KLE changes only through `import_kle` (kle.services)."""

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from kle.models import (
    Facet,
    FacetCategory,
    Keyword,
    Publication,
    Subject,
    Succession,
    SyncSource,
)


class ReadOnlyAdminMixin:
    """View permission only: KLE is maintained by KL and synced by the importer."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StatusFilter(admin.SimpleListFilter):
    """Active = neither expired (UdgaaetDato) nor moved (Flyttet)."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", _("Aktiv")), ("expired", _("Udgået")), ("moved", _("Flyttet"))]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(expired_on__isnull=True, moved_on__isnull=True)
        if self.value() == "expired":
            return queryset.filter(expired_on__isnull=False)
        if self.value() == "moved":
            return queryset.filter(moved_on__isnull=False)
        return queryset


class SuccessorInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Succession
    fk_name = "predecessor"
    fields = ["successor"]
    readonly_fields = fields
    verbose_name = _("afløser")
    verbose_name_plural = _("afløst af")
    extra = 0


class PredecessorInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Succession
    fk_name = "successor"
    fields = ["predecessor"]
    readonly_fields = fields
    verbose_name = _("forgænger")
    verbose_name_plural = _("afløser for")
    extra = 0


class KeywordInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Keyword
    fields = ["text", "facet_code", "order"]
    readonly_fields = fields
    extra = 0


ITEM_FIELDSETS_TAIL = (
    (
        _("Historik"),
        {"fields": ["created_on", "corrected_on", "expired_on", "moved_on", "successor_numbers"]},
    ),
    (
        _("Detaljer"),
        {
            "fields": [
                "guidance",
                "legal_references_list",
                "filters",
                "retention_code",
                "deletion_period",
                "uuid",
                "created_in",
                "changed_in",
            ]
        },
    ),
)


class KleItemAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_per_page = 100

    def get_readonly_fields(self, request, obj=None):
        return flatten_fieldsets(self.fieldsets)

    @admin.display(boolean=True, description=_("aktiv"))
    def active(self, obj) -> bool:
        return obj.is_active

    @admin.display(description=_("vejledning"))
    def guidance(self, obj):
        # guidance_html was sanitised by nh3 to p, ul, ol, li, b and i at import.
        return mark_safe(obj.guidance_html)  # noqa: S308

    @admin.display(description=_("retskilder"))
    def legal_references_list(self, obj):
        return format_html_join(
            "",
            "<div>{} {} ({})</div>",
            (
                (ref.get("title", ""), ref.get("paragraph", ""), ref.get("accession_number", ""))
                for ref in obj.legal_references
            ),
        )


@admin.register(Subject)
class SubjectAdmin(KleItemAdmin):
    list_display = ["number", "title", "level", "active", "expired_on", "moved_on"]
    list_filter = ["level", StatusFilter]
    # "^number": a prefix search, so "02.00" finds the gruppe and its emner.
    search_fields = ["^number", "title"]
    fieldsets = ((None, {"fields": ["number", "level", "title", "parent"]}), *ITEM_FIELDSETS_TAIL)
    inlines = [SuccessorInline, PredecessorInline, KeywordInline]


@admin.register(FacetCategory)
class FacetCategoryAdmin(KleItemAdmin):
    list_display = ["code", "title", "active"]
    list_filter = [StatusFilter]
    search_fields = ["^code", "title"]
    fieldsets = ((None, {"fields": ["code", "title"]}), *ITEM_FIELDSETS_TAIL)


@admin.register(Facet)
class FacetAdmin(KleItemAdmin):
    list_display = ["code", "title", "category", "active", "retention_code"]
    list_filter = ["category", StatusFilter]
    list_select_related = ["category"]
    search_fields = ["^code", "title"]
    fieldsets = ((None, {"fields": ["code", "title", "category"]}), *ITEM_FIELDSETS_TAIL)


@admin.register(Publication)
class PublicationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "imported_at",
        "kind",
        "published_on",
        "format",
        "created_count",
        "changed_count",
        "expired_count",
        "moved_count",
        "unchanged_count",
        "absent_count",
    ]
    list_filter = ["kind", "format"]
    search_fields = ["source", "sha256"]
    readonly_fields = [field.name for field in Publication._meta.fields]


@admin.register(SyncSource)
class SyncSourceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Where the scheduled sync reads KLE, the validators it remembers and what it found last."""

    list_display = ["source", "kind", "checked_at", "outcome", "etag", "last_modified"]
    list_filter = ["kind", "outcome"]
    search_fields = ["source"]
    readonly_fields = [field.name for field in SyncSource._meta.fields]
