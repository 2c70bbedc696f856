"""``{% municipal_start_page %}``: the admin's start page for a municipal user."""

from django import template

from borgerblikket.selectors.start_page import start_page_for_user

register = template.Library()


@register.inclusion_tag("borgerblikket/admin/start_page.html", takes_context=True)
def municipal_start_page(context):
    """One panel per municipality of the user's roles (nothing for operators)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not (user.is_active and user.is_staff):
        return {"panels": []}
    return {"panels": start_page_for_user(user=user)}
