"""Retention in the admin: the preview of what will go, and the audit of what went.

``RetentionCountAdmin`` (the audit: counts per run, municipality and kind) is scoped like
every other municipal admin page (``MunicipalityScopedAdminMixin``); its ``preview/``
view shows what the next run deletes and what falls due in the coming months, for the
user's own municipalities only (another municipality asked for by code is a 404, as one
that does not exist). Operators see every municipality and the runs themselves.
Nothing here deletes: the nightly job does (``borgerblikket.services.retention``).
"""

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from borgerblikket.admin.scoping import MunicipalityScopedAdminMixin
from borgerblikket.admin.sheets import OperatorOnlyAdmin
from borgerblikket.models import RetentionCount, RetentionRun, Sheet
from borgerblikket.selectors.retention import KINDS, retention_due_counts, retention_preview


@admin.register(RetentionCount)
class RetentionCountAdmin(MunicipalityScopedAdminMixin, admin.ModelAdmin):
    """What each retention run deleted, per municipality and kind (counts, never records)."""

    list_display = ("run_day", "municipality", "kind", "count")
    list_filter = ("kind",)
    list_select_related = ("run", "municipality")
    scoped_list_filters = ("municipality",)
    readonly_fields = ("run", "municipality", "kind", "count")
    change_list_template = "borgerblikket/admin/retentioncount_change_list.html"

    @admin.display(description=_("kørsel"), ordering="run__started_at")
    def run_day(self, obj):
        return obj.run.started_at

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "preview/",
                self.admin_site.admin_view(self.preview_view),
                name="borgerblikket_retentioncount_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request):
        """What the next run deletes (per municipality and kind) and the cases falling due
        in the coming twelve months (per municipality, KLE main group and month)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        municipalities = list(self.scoped_municipalities(request))
        code = request.GET.get("municipality", "")
        if code:
            municipalities = [m for m in municipalities if m.pk == code]
            if not municipalities:
                raise Http404("Ikke fundet")
        codes = [m.pk for m in municipalities]
        today = timezone.localdate()
        due = retention_due_counts(today=today, municipality_codes=codes)
        names = {m.pk: m.name for m in municipalities}
        due_rows = [
            {"municipality": names.get(c, c), "code": c, "counts": [kinds.get(k, 0) for k in KINDS]}
            for c, kinds in due.items()
        ]
        upcoming = [
            {**row.__dict__, "municipality_name": names.get(row.municipality, row.municipality)}
            for row in retention_preview(today=today, municipality_codes=codes)
        ]
        settings_rows = [
            {
                "municipality": m,
                "retention_days": Sheet.objects.filter(municipality=m)
                .values_list("retention_days", flat=True)
                .first(),
            }
            for m in municipalities
        ]
        return TemplateResponse(
            request,
            "borgerblikket/admin/retention_preview.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "app_label": self.model._meta.app_label,
                "title": _t("Sletning efter slettefrist: hvad der slettes"),
                "today": today,
                "kinds": [RetentionCount.Kind(k).label for k in KINDS],
                "due_rows": due_rows,
                "upcoming": upcoming,
                "settings_rows": settings_rows,
                "municipalities": list(self.scoped_municipalities(request)),
                "selected": code,
                "access_log_days": settings.OVERBLIK_ACCESS_LOG_RETENTION_DAYS,
                "sheet_url": reverse("admin:borgerblikket_sheet_changelist"),
            },
        )


class RetentionCountInline(admin.TabularInline):
    model = RetentionCount
    fields = ("municipality", "kind", "count")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RetentionRun)
class RetentionRunAdmin(OperatorOnlyAdmin):
    """Every retention run: when, what started it, how it ended (operators)."""

    list_display = ("started_at", "today", "trigger", "status", "batches", "finished_at")
    list_filter = ("status", "trigger")
    readonly_fields = (
        "started_at",
        "finished_at",
        "today",
        "trigger",
        "status",
        "batches",
        "access_log_cutoff",
        "inbox_cutoff",
        "feed_log_cutoff",
        "error",
    )
    inlines = (RetentionCountInline,)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
