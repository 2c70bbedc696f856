"""KLE releases in the admin: each municipality's impact report and the one-step move.

``KleImpactReportAdmin`` is scoped like every other municipal admin page
(``MunicipalityScopedAdminMixin``): a report of another municipality is the same
404 as one that does not exist. The move has a preview (the sheet as it will be,
nothing saved) and a POST that calls ``borgerblikket.services.kle_releases``;
the rows it adds and removes are in the sheet's history (``SheetChange``).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from borgerblikket.admin.scoping import MunicipalityScopedAdminMixin, scope_register
from borgerblikket.admin.sheets import OperatorOnlyAdmin
from borgerblikket.models import KleImpactItem, KleImpactReport, KleRelease, SheetChange
from borgerblikket.selectors.kle_releases import OPEN_ITEM
from borgerblikket.selectors.scoping import areas_for_user, kle_number_in_areas
from borgerblikket.services.kle_releases import MoveError, sheet_row_move, sheet_row_move_plan

scope_register(model=KleImpactItem, path="report__municipality")


@admin.register(KleImpactReport)
class KleImpactReportAdmin(MunicipalityScopedAdminMixin, admin.ModelAdmin):
    """What each KLE release did to the municipality's sheet; rows are moved from here."""

    list_display = ("release", "municipality", "item_count", "open_count", "created_at")
    list_select_related = ("release__publication", "municipality")
    scoped_list_filters = ("municipality",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                item_count=Count("items", distinct=True),
                open_count=Count("items", filter=OPEN_ITEM, distinct=True),
            )
        )

    @admin.display(description=_("berørte rækker"), ordering="item_count")
    def item_count(self, obj):
        return obj.item_count

    @admin.display(description=_("ikke håndteret"), ordering="open_count")
    def open_count(self, obj):
        return obj.open_count

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_move_permission(self, request, obj=None) -> bool:
        """Moving changes the sheet: a role with ``move_kleimpactreport`` where the report is."""
        return self.has_action_permission(request, "move", obj)

    def _context(self, request, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "app_label": self.model._meta.app_label,
            **extra,
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The report: each row on an expired or moved number, its successors and status."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        report = self.get_object(request, object_id)
        if not self.has_view_permission(request, report):
            raise Http404
        items = report.items.select_related("resolved_by", "sheet_row").order_by("kle_number")
        areas = areas_for_user(user=request.user, municipality=report.municipality_id)
        if areas is not None:
            # An area admin: the rows of their areas only.
            items = [i for i in items if kle_number_in_areas(number=i.kle_number, areas=areas)]
        return TemplateResponse(
            request,
            "borgerblikket/admin/kle_impact_report.html",
            self._context(
                request,
                title=_t("KLE-konsekvenser: %(report)s") % {"report": report},
                report=report,
                items=items,
                can_move=self.has_move_permission(request, report),
                history_url=(
                    reverse("admin:borgerblikket_sheetchange_changelist")
                    + f"?via__exact={SheetChange.Via.KLE_MOVE}"
                ),
            ),
        )

    def get_urls(self):
        return [
            path(
                "<int:report_id>/move/<int:item_id>/",
                self.admin_site.admin_view(self.move_view),
                name="borgerblikket_kleimpactreport_move",
            ),
            *super().get_urls(),
        ]

    def move_view(self, request, report_id, item_id):
        """GET: the sheet as it will be after the move (nothing saved). POST: move."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        report = self.get_object(request, str(report_id))
        if not self.has_move_permission(request, report):
            raise PermissionDenied
        item = KleImpactItem.objects.filter(pk=item_id, report=report).first()
        if item is None:
            raise Http404
        areas = areas_for_user(user=request.user, municipality=report.municipality_id)
        if not kle_number_in_areas(number=item.kle_number, areas=areas):
            raise Http404  # another area's row: as if it were not there
        if not all(kle_number_in_areas(number=n, areas=areas) for n in item.proposed_numbers):
            # The move would add rows outside the area admin's areas.
            raise PermissionDenied
        report_url = reverse("admin:borgerblikket_kleimpactreport_change", args=[report.pk])
        data = request.POST if request.method == "POST" else request.GET
        remove_old = {"1": True, "0": False}.get(data.get("remove_old", ""))
        if request.method == "POST":
            try:
                changes = sheet_row_move(item=item, remove_old=remove_old, user=request.user)
            except MoveError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _t(
                        "KLE-nummer %(number)s er flyttet til %(successors)s "
                        "(%(count)d ændringer i arkets historik)."
                    )
                    % {
                        "number": item.kle_number,
                        "successors": ", ".join(item.proposed_numbers),
                        "count": len(changes),
                    },
                )
            return HttpResponseRedirect(report_url)
        try:
            plan = sheet_row_move_plan(item=item, remove_old=remove_old)
        except MoveError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(report_url)
        return TemplateResponse(
            request,
            "borgerblikket/admin/kle_move_preview.html",
            self._context(
                request,
                title=_t("Flyt %(number)s til afløser") % {"number": item.kle_number},
                report=report,
                item=item,
                plan=plan,
                report_url=report_url,
            ),
        )


@admin.register(KleRelease)
class KleReleaseAdmin(OperatorOnlyAdmin):
    """Every emneplan release and how many sheet rows it touched (operators)."""

    list_display = ("release_name", "built_at", "expired_count", "moved_count", "row_count")
    list_select_related = ("publication",)
    readonly_fields = ("publication", "built_at", "expired_count", "moved_count", "row_count")

    @admin.display(description=_("udgivelse"), ordering="publication__published_on")
    def release_name(self, obj):
        return str(obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
