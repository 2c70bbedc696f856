"""Template helpers of Mit Overblik: icons, money, statuses, "new since your last visit"."""

from datetime import date, datetime
from decimal import Decimal

from django import template
from django.templatetags.static import static
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def icon(name: str, label: str = "", classes: str = ""):
    """A DKFDS icon from the design system's sprite (decorative unless it has a label)."""
    href = f"{static('vendor/dkfds/img/all-svg-icons.svg')}#{name}"
    css = f"icon-svg {classes}".strip()
    if label:
        return format_html(
            '<svg class="{}" focusable="false" role="img" aria-label="{}"><use href="{}"></use></svg>',
            css,
            label,
            href,
        )
    return format_html(
        '<svg class="{}" focusable="false" aria-hidden="true"><use href="{}"></use></svg>',
        css,
        href,
    )


@register.filter
def kr(value) -> str:
    """An amount in kroner with øre, grouped as the active language writes numbers."""
    if value is None or value == "":
        return "\N{EN DASH}"
    amount = Decimal(value)
    return _("%(amount)s kr.") % {
        "amount": number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)
    }


@register.filter
def is_new(moment, since) -> bool:
    """Whether a record changed after the citizen's previous visit (``since``; None: no marks)."""
    if not moment or not since:
        return False
    if isinstance(moment, datetime):
        return moment > since
    if isinstance(moment, date):
        return moment > since.date()
    return False


@register.filter
def case_status(case):
    """The citizen's status of a case: Behandles, Afventer dig or Afsluttet."""
    from overblik.selectors import case_citizen_status

    return case_citizen_status(case)


@register.filter
def benefit_status(benefit):
    """The citizen's status of a granted benefit: Aktiv, Afsluttet or Sat i bero."""
    from overblik.selectors import benefit_citizen_status

    return benefit_citizen_status(benefit)


@register.filter
def get_item(mapping, key):
    return mapping.get(key, "") if mapping else ""


@register.filter
def phone(number: str) -> str:
    """A Danish 8-digit phone number in pairs: 66131372 → 66 13 13 72."""
    digits = "".join(ch for ch in (number or "") if ch.isdigit())
    if len(digits) != 8:
        return number
    return " ".join(digits[i : i + 2] for i in range(0, 8, 2))
