"""Admin-only pages: preview as citizen, data quality, national roll-out.

Each view is wrapped by ``admin.site.admin_view`` (staff login, CSRF) in
``borgerblikket/admin/urls.py`` and only calls selectors and services. A
municipality in a URL is a code the user must be a member of (else 404); a CPR
number is only ever posted, never in a URL.
"""

import csv
import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from stdnum.dk import cpr as stdnum_cpr
from stdnum.exceptions import ValidationError as StdnumError

from borgerblikket import rollout_map, selectors
from borgerblikket.models import Membership, SatisfactionAnswer, UsageCount
from borgerblikket.selectors import conformance, quality, rollout, usage
from borgerblikket.selectors.scoping import (
    is_operator,
    municipalities_for_user,
    municipality_codes_for_user,
    user_may,
    user_roles,
)
from borgerblikket.services import conformance as conformance_services
from borgerblikket.services.sheet_io import cell_escape
from indexes.masking import cpr_masked
from indexes.models import (
    Case,
    CaseDocument,
    DataAccess,
    Document,
    GrantedBenefit,
    Municipality,
    SourceSystem,
)
from indexes.selectors import records_citizens
from indexes.services.access import RECORD_KINDS, data_access_record, data_access_record_many

PAGE_SIZE = 50


def permission_denied(request, exception=None):
    """A refusal (403) in the admin's look for a staff user in the admin, naming their roles
    (``handler403`` in config/urls.py); Django's own page anywhere else."""
    user = getattr(request, "user", None)
    if not (request.path.startswith("/admin/") and user is not None and user.is_staff):
        return defaults.permission_denied(request, exception)
    names = dict(municipalities_for_user(user=user).values_list("code", "name"))
    roles = [
        {
            "municipality": names.get(code, code),
            "label": Membership.Role(role).label,
            "areas": areas,
        }
        for code, role, areas in user_roles(user=user)
    ]
    response = TemplateResponse(
        request,
        "admin/403.html",
        _context(request, title=_("Ingen adgang"), roles=roles, operator=is_operator(user=user)),
        status=403,
    )
    return response.render()


def cpr_mask(cpr: str | None) -> str:
    """``DDMMYY-****``: the most of a CPR number an admin page shows."""
    return f"{cpr[:6]}-****" if cpr else ""


def _context(request, **extra) -> dict:
    return {**admin.site.each_context(request), **extra}


def _municipality_or_404(request, code: str, perm: str) -> Municipality:
    """A municipality where the user may ``perm``; another's is the same 404 as none."""
    municipality = municipalities_for_user(user=request.user, perm=perm).filter(code=code).first()
    if municipality is None:
        raise Http404
    return municipality


def _require(request, perm: str) -> None:
    """The user's role may ``perm`` somewhere, else the refusal page (403)."""
    if not request.user.is_staff or not user_may(user=request.user, perm=perm):
        raise PermissionDenied


def _actor_type(user) -> str:
    return DataAccess.Actor.OPERATOR if is_operator(user=user) else DataAccess.Actor.MUNICIPAL_ADMIN


PREVIEW = "borgerblikket.preview_citizen"
QUALITY = "borgerblikket.view_quality"
QUALITY_RECORDS = "borgerblikket.view_quality_records"
ROLLOUT = "borgerblikket.view_rollout"
USAGE = "borgerblikket.view_usage"


# --- preview as citizen ----------------------------------------------------------------------


class PreviewForm(forms.Form):
    municipality = forms.ModelChoiceField(queryset=None, label=_("Kommune"))
    cpr = forms.CharField(
        label=_("Borgerens CPR-nummer"),
        max_length=11,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, municipalities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipality"].queryset = municipalities
        if municipalities.count() == 1:
            self.fields["municipality"].initial = municipalities.first()

    def clean_cpr(self):
        text = self.cleaned_data["cpr"].strip()
        try:
            return stdnum_cpr.validate(text)
        except StdnumError:
            # Never echo the number (DOMAIN.md §6).
            raise ValidationError(_("CPR-nummeret er ikke gyldigt (DDMMÅÅ-XXXX)")) from None


@never_cache
def citizen_preview(request):
    """See exactly what a citizen sees from the admin's municipality (KOMBIT's verification
    client). The CPR is posted, never in a URL, and every preview is logged as an access."""
    _require(request, PREVIEW)
    form = PreviewForm(
        request.POST or None,
        municipalities=municipalities_for_user(user=request.user, perm=PREVIEW),
    )
    context = {"title": _("Vis som borger"), "form": form}
    if request.method == "POST" and form.is_valid():
        municipality = form.cleaned_data["municipality"]
        cpr = form.cleaned_data["cpr"]
        user = request.user
        data_access_record(
            cpr=cpr,
            actor_type=_actor_type(user),
            channel=DataAccess.Channel.PREVIEW,
            record_kind=DataAccess.RecordKind.ALL,
            user=user,
            municipality=municipality,
        )
        cases = list(
            selectors.cases_visible_to_citizen(cpr=cpr, municipality=municipality.code)[:100]
        )
        context.update(
            shown=True,
            masked_cpr=cpr_mask(cpr),
            municipality=municipality,
            cases=[
                (case, selectors.documents_visible_for_case(cpr=cpr, case=case)) for case in cases
            ],
            benefits=list(
                selectors.benefits_visible_to_citizen(cpr=cpr, municipality=municipality.code)[:100]
            ),
            payments=list(
                selectors.payments_visible_to_citizen(cpr=cpr, municipality=municipality.code)[:100]
            ),
            areas=selectors.exposed_areas_for_municipality(municipality=municipality.code),
        )
        form = PreviewForm(municipalities=municipalities_for_user(user=request.user, perm=PREVIEW))
        form.fields["municipality"].initial = municipality
        context["form"] = form
    return TemplateResponse(
        request, "borgerblikket/admin/preview.html", _context(request, **context)
    )


# --- data quality ----------------------------------------------------------------------------


def quality_index(request):
    _require(request, QUALITY)
    municipalities = list(municipalities_for_user(user=request.user, perm=QUALITY))
    if len(municipalities) == 1:
        return redirect("borgerblikket_admin:quality", code=municipalities[0].code)
    return TemplateResponse(
        request,
        "borgerblikket/admin/quality_index.html",
        _context(request, title=_("Datakvalitet"), municipalities=municipalities),
    )


def quality_report(request, code: str):
    """Counts of every check and of invisible cases, per source system, with drill-downs."""
    _require(request, QUALITY)
    municipality = _municipality_or_404(request, code, QUALITY)
    systems = list(SourceSystem.objects.filter(municipality=municipality).order_by("name"))
    counts = {
        key: quality.check_counts(municipality=municipality, key=key) for key in quality.CHECKS
    }
    invisible = quality.invisibility_counts(municipality=municipality)
    check_rows = [
        {
            "key": key,
            "label": check.label,
            "cells": [(counts[key].get(s.pk, 0), s) for s in systems],
            "total": sum(counts[key].values()),
        }
        for key, check in quality.CHECKS.items()
    ]
    reasons = {**quality.INVISIBILITY_REASONS, "visible": _("Synlige for borgeren")}
    reason_rows = [
        {
            "key": key,
            "label": label,
            "cells": [(invisible.get((s.pk, key), 0), s) for s in systems],
            "total": sum(n for (_, r), n in invisible.items() if r == key),
        }
        for key, label in reasons.items()
    ]
    delivered = quality.delivery_counts(municipality=municipality)
    delivery_rows = [
        {
            "key": key,
            "label": label,
            "cells": [(getattr(delivered.get(s.pk), key, 0), s) for s in systems],
            "total": sum(getattr(d, key) for d in delivered.values()),
        }
        for key, label in quality.DELIVERY_COUNTS.items()
    ]
    rejected = quality.rejection_counts(municipality=municipality)
    rejection_rows = [
        {
            "key": code,
            "label": quality.rejection_label(code=code),
            "cells": [(rejected.get((s.pk, code), 0), s) for s in systems],
            "total": sum(n for (_, c), n in rejected.items() if c == code),
        }
        for code in sorted({c for _, c in rejected})
    ]
    return TemplateResponse(
        request,
        "borgerblikket/admin/quality_report.html",
        _context(
            request,
            title=_("Datakvalitet: %(name)s Kommune") % {"name": municipality.name},
            municipality=municipality,
            systems=systems,
            check_rows=check_rows,
            reason_rows=reason_rows,
            rejection_rows=rejection_rows,
            delivery_rows=delivery_rows,
            # The records behind the counts (citizens' cases) are for some roles only.
            records=user_may(
                user=request.user, perm=QUALITY_RECORDS, municipality=municipality.code
            ),
        ),
    )


def _record_rows(queryset, model) -> tuple[list[str], callable]:
    """Columns and a row function for a drill-down list (CPR masked)."""
    if model is CaseDocument:
        headings = [
            _t("Sag"),
            _t("Sagens KLE"),
            _t("Dokument"),
            _t("Dokumentets KLE"),
            _t("Fagsystem"),
        ]

        def row(link):
            return (
                link.case.case_number,
                link.case.kle_subject.number,
                link.document.title,
                link.document.kle_subject.number if link.document.kle_subject_id else "",
                link.case.source_system.name,
            ), reverse("admin:indexes_case_change", args=[link.case_id])

        return headings, row
    if model is Document:
        headings = [_t("Titel"), _t("Type"), _t("Brevdato"), _t("Fagsystem"), _t("Problemer")]

        def row(doc):
            return (
                doc.title,
                doc.get_type_display(),
                doc.letter_date or "",
                doc.source_system.name,
                ", ".join(
                    problem
                    for problem in (
                        quality.letter_party_problem(document=doc),
                        _problems(doc, quality.DOCUMENT_CPR_TEXTS),
                    )
                    if problem
                ),
            ), reverse("admin:indexes_document_change", args=[doc.pk])

        return headings, row
    if model is GrantedBenefit:
        headings = [
            _t("Ydelse"),
            _t("Bevilling"),
            _t("Part (CPR)"),
            _t("KLE"),
            _t("Fagsystem"),
            _t("CPR-nummer i"),
        ]

        def row(benefit):
            texts = quality.texts_with_cpr(obj=benefit, texts=quality.BENEFIT_CPR_TEXTS)
            if getattr(benefit, "office_has_cpr", False):
                texts.append(str(_("udbetalingssted")))
            return (
                benefit.name,
                str(benefit.grant),
                cpr_mask(benefit.grant.party_cpr),
                benefit.kle_subject.number,
                benefit.grant.source_system.name,
                ", ".join(texts),
            ), reverse("admin:indexes_grantedbenefit_change", args=[benefit.pk])

        return headings, row
    headings = [
        _t("Sagsnummer"),
        _t("Titel"),
        _t("Part (CPR)"),
        _t("KLE"),
        _t("Status"),
        _t("Fagsystemets status"),
        _t("Oprettet"),
        _t("Senest ændret"),
        _t("Sagsbehandler"),
        _t("Fagsystem"),
        _t("Problemer"),
    ]

    def row(case):
        return (
            case.case_number,
            case.title,
            cpr_mask(case.party_cpr),
            case.kle_subject.number,
            case.get_status_display(),
            case.source_status_text,
            case.created_on,
            case.last_changed_at.date(),
            case.primary_caseworker,
            case.source_system.name,
            _problems(case, quality.CASE_CPR_TEXTS),
        ), reverse("admin:indexes_case_change", args=[case.pk])

    return headings, row


def _problems(record, cpr_texts: dict) -> str:
    """The title rules a case or document title breaks, and the texts holding a CPR."""
    problems = quality.title_problems(title=record.title)
    cpr_in = quality.texts_with_cpr(obj=record, texts=cpr_texts)
    if cpr_in:
        problems.append(str(_("CPR-nummer i %(texts)s")) % {"texts": ", ".join(cpr_in)})
    return ", ".join(problems)


def _list_reads_log(request, municipality, *, model, ids, channel: str, what: str) -> None:
    """A drill-down (page or CSV) showed these records' citizens' data: one read each."""
    user = request.user
    data_access_record_many(
        reads=records_citizens(model=model, ids=ids),
        actor_type=_actor_type(user),
        channel=channel,
        record_kind=RECORD_KINDS[model],
        detail=what,
        user=user,
        municipality=municipality,
    )


def _drilldown(request, municipality, *, queryset, model, title, csv_name):
    system_id = request.GET.get("source_system")
    if system_id:
        path = {
            CaseDocument: "case__source_system",
            GrantedBenefit: "grant__source_system",
        }.get(model, "source_system")
        try:
            queryset = queryset.filter(**{path: int(system_id)})
        except ValueError:
            raise Http404 from None
    if model is CaseDocument:
        queryset = queryset.select_related(
            "case__kle_subject", "case__source_system", "document__kle_subject"
        ).order_by("case_id", "document_id")
    elif model is GrantedBenefit:
        queryset = queryset.select_related(
            "grant__source_system", "kle_subject", "payment_plan"
        ).order_by("pk")
    else:
        queryset = queryset.select_related(
            "source_system", *(["kle_subject"] if model is Case else [])
        )
        queryset = queryset.order_by("pk")
    headings, unmasked_row = _record_rows(queryset, model)

    def row(obj):
        # A title a source system put a CPR number in is shown masked (DOMAIN.md §6).
        values, link = unmasked_row(obj)
        return cpr_masked(values), link

    if request.GET.get("format") == "csv":
        _list_reads_log(
            request,
            municipality,
            model=model,
            ids=queryset.order_by().values("pk"),
            channel=DataAccess.Channel.QUALITY_DOWNLOAD,
            what=f"{title} (CSV)",
        )
        return _csv_response(headings, (row(obj)[0] for obj in queryset.iterator()), csv_name)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    _list_reads_log(
        request,
        municipality,
        model=model,
        ids=[obj.pk for obj in page.object_list],
        channel=DataAccess.Channel.QUALITY_REPORT,
        what=str(title),
    )
    return TemplateResponse(
        request,
        "borgerblikket/admin/quality_drilldown.html",
        _context(
            request,
            title=title,
            municipality=municipality,
            headings=headings,
            rows=[row(obj) for obj in page.object_list],
            page=page,
            source_system=system_id or "",
        ),
    )


class _Echo:
    def write(self, value):
        return value


def _csv_response(headings, rows, name, *, delimiter=","):
    writer = csv.writer(_Echo(), delimiter=delimiter, lineterminator="\r\n")

    def lines():
        yield "\ufeff"  # Excel reads the file as UTF-8
        yield writer.writerow(headings)
        for values in rows:
            yield writer.writerow(values)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


# The trend's drawing: a line of the daily counts and the target as a dashed line, in an
# SVG of this size (the table below it is the accessible alternative and the exact figures).
TREND_WIDTH, TREND_HEIGHT, TREND_MARGIN = 640, 220, 30


def _trend_drawing(points, *, target: int | None, days: int, today) -> dict:
    """Coordinates of the trend line (one point per snapshot) and the target line."""
    top = max([n for _day, n in points] + [target or 0, 1])
    inner_w = TREND_WIDTH - 2 * TREND_MARGIN
    inner_h = TREND_HEIGHT - 2 * TREND_MARGIN
    first = today - dt.timedelta(days=days - 1)

    def x(day) -> float:
        return round(TREND_MARGIN + inner_w * (day - first).days / max(days - 1, 1), 1)

    def y(n) -> float:
        return round(TREND_MARGIN + inner_h * (1 - n / top), 1)

    return {
        "width": TREND_WIDTH,
        "height": TREND_HEIGHT,
        "line": " ".join(f"{x(day)},{y(n)}" for day, n in points),
        "dots": [(x(day), y(n), day, n) for day, n in points],
        "target_y": None if target is None else y(target),
        "left": TREND_MARGIN,
        "right": TREND_WIDTH - TREND_MARGIN,
        "top": top,
        "top_y": TREND_MARGIN,
        "bottom_y": TREND_HEIGHT - TREND_MARGIN,
        "first": first,
    }


def quality_trend(request, code: str, key: str):
    """A check's daily counts in the municipality over the last 90 days, against its target:
    an SVG line with the table as its accessible alternative. Counts only, so the roles
    that see the quality page's counts see it."""
    _require(request, QUALITY)
    municipality = _municipality_or_404(request, code, QUALITY)
    check = quality.CHECKS.get(key)
    if check is None:
        raise Http404
    today = timezone.localdate()
    days = quality.TREND_DAYS
    points = quality.quality_trend(municipality=municipality, key=key, days=days, today=today)
    target = quality.quality_target(key=key)
    rows = [
        {"day": day, "count": n, "met": None if target is None else n <= target}
        for day, n in reversed(points)
    ]
    return TemplateResponse(
        request,
        "borgerblikket/admin/quality_trend.html",
        _context(
            request,
            title=_("%(check)s: udvikling i %(name)s Kommune")
            % {"check": check.label, "name": municipality.name},
            municipality=municipality,
            check_key=key,
            check_label=check.label,
            target=target,
            days=days,
            rows=rows,
            drawing=_trend_drawing(points, target=target, days=days, today=today),
        ),
    )


def quality_check(request, code: str, key: str):
    """The records a check finds (filter ``?source_system=``; ``?format=csv`` to download)."""
    _require(request, QUALITY_RECORDS)
    municipality = _municipality_or_404(request, code, QUALITY_RECORDS)
    check = quality.CHECKS.get(key)
    if check is None:
        raise Http404
    return _drilldown(
        request,
        municipality,
        queryset=quality.check_offending(municipality=municipality, key=key),
        model=check.model,
        title=f"{check.label} ({municipality.name})",
        csv_name=f"datakvalitet-{municipality.code}-{key}",
    )


def quality_invisible(request, code: str, reason: str):
    """The cases invisible to citizens for one reason."""
    _require(request, QUALITY_RECORDS)
    municipality = _municipality_or_404(request, code, QUALITY_RECORDS)
    labels = {**quality.INVISIBILITY_REASONS, "visible": _("Synlige for borgeren")}
    if reason not in labels:
        raise Http404
    queryset = quality.cases_with_visibility_reason(municipality=municipality).filter(reason=reason)
    return _drilldown(
        request,
        municipality,
        queryset=queryset,
        model=Case,
        title=f"{labels[reason]} ({municipality.name})",
        csv_name=f"synlighed-{municipality.code}-{reason}",
    )


REJECTION_HEADINGS = [
    _("Modtaget"),
    _("Fagsystem"),
    _("Posttype"),
    _("Eksternt id"),
    _("Årsag"),
    _("Kode"),
    _("Besked"),
    _("Kildens tidsstempel"),
]


def _rejection_row(rejection) -> tuple:
    """One rejected delivery; any CPR-looking number masked (a source system may have put
    one in its external id; messages never carry one, but are masked all the same)."""
    messages = "; ".join(
        f"{p.get('pointer', '')}: {p.get('message', '')}" for p in rejection.problems or []
    )
    return (
        timezone.localtime(rejection.received_at).strftime("%Y-%m-%d %H:%M"),
        rejection.feed.source_system.name,
        rejection.kind,
        quality.cpr_scrub(text=rejection.external_id),
        quality.rejection_label(code=rejection.code),
        rejection.code,
        quality.cpr_scrub(text=messages),
        rejection.source_timestamp,
    )


def quality_rejections(request, code: str, reason: str):
    """Deliveries a feed's poll rejected for one problem code (``?source_system=``,
    ``?format=csv``); ``reason`` "all" lists every code. Never reached the index."""
    _require(request, QUALITY_RECORDS)
    municipality = _municipality_or_404(request, code, QUALITY_RECORDS)
    system_id = request.GET.get("source_system") or ""
    try:
        system = int(system_id) if system_id else None
    except ValueError:
        raise Http404 from None
    rejections = quality.rejected_deliveries(
        municipality=municipality,
        code=None if reason == "all" else reason,
        source_system_id=system,
    )
    label = _("Afviste leverancer") if reason == "all" else quality.rejection_label(code=reason)
    if request.GET.get("format") == "csv":
        return _csv_response(
            [str(h) for h in REJECTION_HEADINGS],
            (_rejection_row(r) for r in rejections.iterator()),
            f"afviste-{municipality.code}-{reason}",
        )
    page = Paginator(rejections, PAGE_SIZE).get_page(request.GET.get("page"))
    return TemplateResponse(
        request,
        "borgerblikket/admin/quality_drilldown.html",
        _context(
            request,
            title=f"{label} ({municipality.name})",
            municipality=municipality,
            headings=[str(h) for h in REJECTION_HEADINGS],
            # No admin page per rejection: the first column is not a link.
            rows=[(_rejection_row(r), "") for r in page.object_list],
            page=page,
            source_system=system_id,
        ),
    )


# --- national roll-out -----------------------------------------------------------------------


@dataclass
class _RolloutPage:
    """What the roll-out page and its CSV show for the request's ``?area=`` and ``?week=``."""

    errors: list[str]
    area: rollout.Area
    week: dt.date | None  # a past week's Monday; None: now
    codes: frozenset[str] | None  # the municipalities the user may see; None: all
    status: list  # the visible municipalities' positions


def _rollout_page(request) -> _RolloutPage:
    codes = municipality_codes_for_user(user=request.user, perm=ROLLOUT)
    errors = []
    try:
        area = rollout.rollout_area(key=request.GET.get("area", ""))
    except rollout.RolloutParameterError as error:
        errors.append(str(error))
        area = rollout.rollout_area(key="")
    try:
        week = rollout.rollout_week(text=request.GET.get("week", ""))
    except rollout.RolloutParameterError as error:
        errors.append(str(error))
        week = None
    status = []
    if not errors:
        if week is None:
            status = rollout.rollout_status(area=area)
        else:
            status = rollout.rollout_status_of_week(area=area, week=week)
        status = rollout.rollout_visible(status=status, codes=codes)
    return _RolloutPage(errors=errors, area=area, week=week, codes=codes, status=status)


def _rollout_tiles(page: _RolloutPage) -> list[dict]:
    """The map's tiles: a visible municipality's with its name and category, another's
    grey and unnamed (its position is not the user's to see)."""
    by_code = {s.code: s for s in page.status}
    tiles = []
    for tile in rollout_map.map_tiles():
        item = by_code.get(tile.code)
        if item is None:
            tiles.append({"tile": tile, "shown": False, "title": _t("Anden kommune: ikke vist")})
        else:
            tiles.append(
                {
                    "tile": tile,
                    "shown": True,
                    "item": item,
                    "title": f"{item.code} {item.name}: {item.category_label}",
                }
            )
    return tiles


def rollout_status(request):
    """Where each of the 98 municipalities stands, on a tile map with the table as its
    accessible alternative, in an area (``?area=`` KLE main group or group, or
    ``etape:<slug>``) and now or in a past ISO week (``?week=2026-W49``), with the 12
    weeks' trend. Operators see all; a municipal role sees its own municipalities' position
    (the others' tiles grey and unnamed). A bad parameter: 400 with the reason."""
    _require(request, ROLLOUT)
    page = _rollout_page(request)
    summary = rollout.rollout_summary(status=page.status)
    groups = [
        {
            "key": key,
            "label": label,
            "count": summary[key],
            "municipalities": [s for s in page.status if s.category == key],
        }
        for key, label in rollout.CATEGORIES.items()
    ]
    until = page.week or rollout.week_monday(timezone.localdate())
    trend = (
        [] if page.errors else rollout.rollout_trend(area=page.area, until=until, codes=page.codes)
    )
    query = urlencode(
        {k: v for k, v in (("area", page.area.key), ("week", request.GET.get("week", ""))) if v}
    )
    main_groups = sorted({n[:2] for n in rollout.MandatoryKleNumber.objects.values_list(
        "kle_number", flat=True)})  # fmt: skip
    response = TemplateResponse(
        request,
        "borgerblikket/admin/rollout.html",
        _context(
            request,
            title=_("Udrulning: visning af KLE-numre"),
            errors=page.errors,
            area=page.area,
            area_text=request.GET.get("area", ""),
            week=page.week,
            week_text=request.GET.get("week", ""),
            week_label=rollout.week_label(page.week) if page.week else "",
            groups=groups,
            status=page.status,
            total=len(page.status),
            all_shown=page.codes is None,
            tiles=_rollout_tiles(page),
            map_width=rollout_map.WIDTH,
            map_height=rollout_map.HEIGHT,
            tile_size=rollout_map.TILE,
            trend=trend,
            stages=rollout.rollout_stages(),
            main_groups=main_groups,
            mandatory=rollout.MandatoryKleNumber.objects.all(),
            csv_url=reverse("borgerblikket_admin:rollout_csv") + (f"?{query}" if query else ""),
        ),
        status=400 if page.errors else 200,
    )
    return response


ROLLOUT_CSV_HEADINGS = (
    _("Uge"),
    _("Opgørelse"),
    _("Område"),
    _("Kommunekode"),
    _("Kommune"),
    _("Kategori"),
    _("Udstillede KLE-numre"),
    _("Krævede KLE-numre udstillet"),
    _("Krævede KLE-numre i alt"),
)


def rollout_csv(request):
    """The roll-out table of ``?area=`` and ``?week=`` (as the page) as CSV for Excel: UTF-8
    with a BOM, semicolons, CRLF; only the municipalities the user may see."""
    _require(request, ROLLOUT)
    page = _rollout_page(request)
    if page.errors:
        return rollout_status(request)
    week = page.week or rollout.week_monday(timezone.localdate())
    source = _t("ugens øjebliksbillede") if page.week else _t("aktuel")
    writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n")

    def lines():
        yield "\ufeff"  # Excel reads the file as UTF-8
        yield writer.writerow([str(h) for h in ROLLOUT_CSV_HEADINGS])
        for item in page.status:
            yield writer.writerow(
                [
                    rollout.week_label(week),
                    source,
                    page.area.key or _t("alle obligatoriske"),
                    item.code,
                    item.name,
                    item.category_label,
                    item.exposed,
                    item.mandatory_exposed,
                    item.mandatory_total,
                ]
            )

    name = "udrulning-{}-{}".format(
        (page.area.key or "alle").replace(":", "-"), rollout.week_label(week)
    )
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


# --- conformance report of a source system (issue 18) ---------------------------------------


@never_cache
def conformance_report(request, source_system_id: int):
    """One source system's conformance report (HTML; ``?format=json`` for JSON).

    Operators see every system; a municipal admin their municipalities' systems. Only an
    operator approves a product for roll-out (POST ``approve`` / ``withdraw``).
    """
    _require(request, QUALITY)
    system = (
        SourceSystem.objects.filter(
            municipality__in=municipalities_for_user(user=request.user, perm=QUALITY),
            pk=source_system_id,
        )
        .select_related("municipality")
        .first()
    )
    if system is None:
        raise Http404
    if request.method == "POST":
        if not is_operator(user=request.user):
            raise PermissionDenied
        if "approve" in request.POST:
            conformance_services.product_approve(
                source_system=system,
                actor=request.user.get_username(),
                note=request.POST.get("note", ""),
            )
        elif "withdraw" in request.POST:
            conformance_services.product_approval_withdraw(product=system.product)
        return redirect("borgerblikket_admin:conformance", source_system_id=system.pk)
    report = conformance.conformance_report(source_system=system)
    if request.GET.get("format") == "json":
        return JsonResponse(report.as_dict())
    return TemplateResponse(
        request,
        "borgerblikket/admin/conformance.html",
        {
            **admin.site.each_context(request),
            "title": _("Overensstemmelsesrapport: %(name)s") % {"name": str(system)},
            "system": system,
            "report": report,
            "installations": SourceSystem.objects.filter(product=system.product)
            .select_related("municipality")
            .order_by("municipality_id", "name"),
        },
    )


# --- usage and satisfaction (issue 16) ------------------------------------------------------


def _usage_scope(request) -> tuple[frozenset[str] | None, Municipality | None, list]:
    """(the codes the user may see, None for all; the municipality chosen with
    ``?kommune=``; the municipalities to choose from). Another's code is a 404."""
    _require(request, USAGE)
    codes = municipality_codes_for_user(user=request.user, perm=USAGE)
    choices = list(municipalities_for_user(user=request.user, perm=USAGE))
    chosen = None
    code = request.GET.get("kommune", "")
    if code:
        chosen = _municipality_or_404(request, code, USAGE)
    return codes, chosen, choices


def _month(value) -> str:
    return f"{value:%Y-%m}"


def usage_report(request):
    """Page views and logins of the last 12 months, per month, page and KLE main group
    (``?kommune=`` narrows; ``?format=csv`` downloads the counters). Counts only."""
    codes, chosen, choices = _usage_scope(request)
    municipality = chosen.code if chosen else None
    if request.GET.get("format") == "csv":
        kinds = dict(UsageCount.PageKind.choices)
        rows = usage.usage_rows(codes=codes, municipality=municipality)
        return _csv_response(
            [
                _t("Måned"),
                _t("Kommune"),
                _t("KLE-hovedgruppe"),
                _t("Side"),
                _t("Set for en anden"),
                _t("Antal"),
            ],
            (
                (
                    _month(row.month),
                    row.municipality_code,
                    row.main_group,
                    str(kinds.get(row.page_kind, row.page_kind)),
                    _t("ja") if row.on_behalf else _t("nej"),
                    row.count,
                )
                for row in rows.iterator()
            ),
            f"brug-{municipality or 'alle'}",
            delimiter=";",
        )
    trend = usage.usage_trend(codes=codes, municipality=municipality)
    for month in trend["months"]:
        month.kind_cells = [month.by_kind.get(key, 0) for key, _label in trend["kinds"]]
        month.group_cells = [month.by_group.get(group, 0) for group, _name in trend["groups"]]
    return TemplateResponse(
        request,
        "borgerblikket/admin/usage.html",
        _context(
            request,
            title=_("Brug af Mit Overblik"),
            trend=trend,
            chosen=chosen,
            choices=choices,
            all_municipalities=codes is None,
        ),
    )


def satisfaction_report(request):
    """Answers to "Var du tilfreds med dit besøg på Mit Overblik?" of the last 12 months,
    per month, with the latest comments (``?kommune=``; ``?format=csv``). Anonymous."""
    codes, chosen, choices = _usage_scope(request)
    municipality = chosen.code if chosen else None
    rows = usage.satisfaction_rows(codes=codes, municipality=municipality)
    answers = dict(SatisfactionAnswer.Answer.choices)
    if request.GET.get("format") == "csv":
        return _csv_response(
            [_t("Måned"), _t("Kommune"), _t("Svar (1-5)"), _t("Svar"), _t("Kommentar")],
            (
                (
                    _month(row.month),
                    row.municipality_code,
                    row.answer,
                    str(answers.get(row.answer, row.answer)),
                    cell_escape(row.comment),
                )
                for row in rows.iterator()
            ),
            f"tilfredshed-{municipality or 'alle'}",
            delimiter=";",
        )
    return TemplateResponse(
        request,
        "borgerblikket/admin/satisfaction.html",
        _context(
            request,
            title=_("Tilfredshed med Mit Overblik"),
            trend=usage.satisfaction_trend(codes=codes, municipality=municipality),
            comments=list(rows.exclude(comment="")[:PAGE_SIZE]),
            chosen=chosen,
            choices=choices,
            all_municipalities=codes is None,
        ),
    )
