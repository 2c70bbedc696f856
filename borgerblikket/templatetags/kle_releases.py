"""``{% kle_release_notices %}``: the admin message that a KLE release changed the user's sheet."""

from django import template

from borgerblikket.selectors.kle_releases import kle_release_notices as notices_for

register = template.Library()


@register.inclusion_tag("borgerblikket/admin/kle_release_notices.html", takes_context=True)
def kle_release_notices(context):
    """Open impact reports of the user's municipalities (nothing for anyone else)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not (user.is_active and user.is_staff):
        return {"notices": None}
    return {"notices": notices_for(user=user)}
