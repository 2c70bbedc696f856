"""Writes of usage and satisfaction (issue 16): counters and anonymous answers.

Nothing here takes or stores who the citizen is: a page view is a ``+1`` on counters keyed
by month, municipality, KLE main group, page kind and "seen for someone else"; an answer
keeps the month, the municipality only when the citizen's data came from exactly one, the
answer and a comment with CPR-shaped numbers masked whole.
"""

import datetime as dt
from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from borgerblikket.models import SatisfactionAnswer, UsageCount
from config.cpr_shape import cpr_shapes_redact

# What a CPR-shaped number in a comment becomes (the whole number, not only its last four).
CPR_REPLACEMENT = "[CPR-nr.]"  # never longer than the number it replaces


def usage_month(*, now: dt.datetime | None = None) -> dt.date:
    """The first day of ``now``'s month (Danish time)."""
    return timezone.localdate(now or timezone.now()).replace(day=1)


def usage_keys(*, shown: Iterable[tuple[str | None, str | None]]) -> list[tuple[str, str]]:
    """The (municipality, main group) counters one page view adds 1 to, sorted.

    ``shown`` is the (municipality code, KLE number) of each record the page shows (the
    number may be empty). Each municipality counts once (main group ""), and once for each
    of its main groups shown; a page with no municipality's data counts as ("", "").
    """
    keys: set[tuple[str, str]] = set()
    for code, kle_number in shown:
        code = code or ""
        keys.add((code, ""))
        group = (kle_number or "")[:2]
        if code and len(group) == 2 and group.isdigit():
            keys.add((code, group))
    return sorted(keys) or [("", "")]


def usage_count(
    *,
    page_kind: str,
    shown: Iterable[tuple[str | None, str | None]],
    on_behalf: bool = False,
    now: dt.datetime | None = None,
) -> None:
    """Add one view of ``page_kind`` to the counters of what it shows: one statement
    (INSERT … ON CONFLICT DO UPDATE, on PostgreSQL and SQLite alike), so a page costs one
    query and concurrent views never lose a count."""
    if page_kind not in UsageCount.PageKind.values:
        raise ValueError(f"Unknown page kind {page_kind!r}.")
    keys = usage_keys(shown=shown)
    month = usage_month(now=now)
    q = connection.ops.quote_name
    table = q(UsageCount._meta.db_table)
    key_columns = ", ".join(
        q(c) for c in ("month", "municipality_code", "main_group", "page_kind", "on_behalf")
    )
    rows = ", ".join(["(%s, %s, %s, %s, %s, 1)"] * len(keys))
    params: list = []
    for code, group in keys:
        params += [month, code, group, page_kind, bool(on_behalf)]
    sql = (
        f"INSERT INTO {table} ({key_columns}, {q('count')}) VALUES {rows} "  # noqa: S608 - quoted identifiers, values as parameters
        f"ON CONFLICT ({key_columns}) "
        f"DO UPDATE SET {q('count')} = {table}.{q('count')} + EXCLUDED.{q('count')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def satisfaction_comment_clean(*, comment: str) -> str:
    """The comment as stored: trimmed, CPR-shaped numbers replaced whole."""
    return cpr_shapes_redact((comment or "").strip(), CPR_REPLACEMENT)


def satisfaction_answer_record(
    *,
    answer: int,
    comment: str = "",
    municipality_codes: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> SatisfactionAnswer:
    """Store one answer without identity. ``municipality_codes``: the municipalities the
    citizen's data came from; the answer names one only when there was exactly one."""
    codes = {code for code in municipality_codes if code}
    comment = satisfaction_comment_clean(comment=comment)
    if len(comment) > SatisfactionAnswer.COMMENT_MAX_LENGTH:
        raise ValueError("The comment is longer than allowed.")
    answer_ = SatisfactionAnswer(
        month=usage_month(now=now),
        municipality_code=codes.pop() if len(codes) == 1 else "",
        answer=answer,
        comment=comment,
    )
    answer_.full_clean()
    answer_.save()
    return answer_
