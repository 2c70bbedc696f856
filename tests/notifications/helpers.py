"""Kim's data (tests.overblik.data) and a citizen with confirmed e-mail and mobile."""

import datetime as dt

from django.utils import timezone

from overblik.models import NotificationMessage, NotificationSettings
from overblik.services import citizen_get_or_create
from tests.overblik import data as portal_data

KIM = portal_data.KIM
EMAIL = "kim@example.dk"
MOBILE = "22334455"


def kim_settings(**fields) -> NotificationSettings:
    citizen = citizen_get_or_create(cpr=KIM.cpr)
    now = timezone.now()
    values = {
        "email": EMAIL,
        "email_confirmed_at": now,
        "mobile": MOBILE,
        "mobile_confirmed_at": now,
    } | fields
    settings, _ = NotificationSettings.objects.update_or_create(citizen=citizen, defaults=values)
    return settings


def due_message(settings, *, channel="email", items, **fields) -> NotificationMessage:
    now = timezone.now() - dt.timedelta(seconds=1)
    return NotificationMessage.objects.create(
        settings=settings, channel=channel, send_after=now, due_at=now, items=items, **fields
    )


def personal_details(data) -> list[str]:
    """What must never be in a message: CPR numbers, titles, case numbers, names."""
    details = [KIM.cpr, KIM.cpr[:6] + "-" + KIM.cpr[6:], "Kim", "Borgersen"]
    for case in [*data.cases, data.hidden_case, data.closed_case]:
        details += [case.title, case.case_number]
    details += [data.visible_document.title, "Kontanthjælp", "kontanthjælp"]
    return details
