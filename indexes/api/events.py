"""Events back, read with a cursor: what a webhook receiver missed (issue 18)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from indexes.api.base import IndexApiView
from indexes.api.problems import ProblemError
from indexes.api.records import problems
from indexes.models import EventType
from indexes.services.events import events_after
from indexes.services.webhooks import cloudevent

MAX_LIMIT = 1000
MAX_SEQUENCE = 2**63 - 1  # an event's sequence is a bigint


def _whole(request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise ProblemError(
            status_code=400,
            detail=f"{name} er ugyldig.",
            errors=[
                {
                    "pointer": "",
                    "code": f"invalid_{name}",
                    "message": f"{name} must be a whole number from {low} to {high}.",
                }
            ],
        )
    return int(raw)


class EventListApi(IndexApiView):
    """GET the caller's events after a cursor, oldest first, as CloudEvents 1.0 JSON."""

    @extend_schema(
        operation_id="events_list",
        summary="Events after a cursor (what a webhook receiver missed)",
        description=(
            "The caller's events — its own records and batches, its municipality's sheet, "
            "KLE — with a `sequence` above `after`, oldest first, each a CloudEvents 1.0 "
            "event exactly as the webhook sends it. Continue with `after=next_after`. "
            "Events younger than a few seconds are held back (docs/api.md, 'Events back')."
        ),
        parameters=[
            OpenApiParameter(
                "after",
                {"type": "integer", "minimum": 0, "maximum": MAX_SEQUENCE},
                description="The last `sequence` you have (0: all).",
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                description=f"1-{MAX_LIMIT}, default 100.",
            ),
            OpenApiParameter(
                "type",
                OpenApiTypes.STR,
                enum=EventType.values,
                many=True,
                description="Only these types (repeat the parameter).",
            ),
        ],
        responses={
            200: inline_serializer(
                "EventPage",
                {
                    "events": serializers.ListField(child=serializers.DictField()),
                    "next_after": serializers.IntegerField(),
                },
            ),
            **problems(401),
        },
        tags=["events"],
    )
    def get(self, request):
        after = _whole(request, "after", 0, 0, MAX_SEQUENCE)
        limit = _whole(request, "limit", 100, 1, MAX_LIMIT)
        types = request.query_params.getlist("type")
        unknown = [t for t in types if t not in EventType.values]
        if unknown:
            raise ProblemError(
                status_code=400,
                detail="type er ugyldig.",
                errors=[
                    {
                        "pointer": "",
                        "code": "invalid_type",
                        "message": "type must be one of " + ", ".join(EventType.values) + ".",
                    }
                ],
            )
        events = events_after(
            source_system=self.source_system, after=after, limit=limit, types=types or None
        )
        return Response(
            {
                "events": [cloudevent(e) for e in events],
                "next_after": events[-1].pk if events else after,
            }
        )
