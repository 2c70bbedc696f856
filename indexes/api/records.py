"""Records of one kind: upsert (PUT), retract (DELETE), read back (GET one, GET list).

One view class per URL and kind, each method one operation that calls one
service. The request body of a PUT is a record in the wire format of
``indexes.payloads``; ordering by ``source_timestamp`` is the services' rule.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from indexes import payloads
from indexes.api.base import IndexApiView
from indexes.api.dry_run import DRY_RUN
from indexes.api.idempotency import KEY_PATTERN, MAX_KEY_LENGTH, idempotent
from indexes.api.problems import ProblemError
from indexes.api.serializers import ProblemSerializer, WriteResultSerializer
from indexes.models import DataAccess, SourceSystem
from indexes.selectors import record_get, record_to_payload, records_list
from indexes.services.access import data_access_record
from indexes.services.errors import RecordNotFound
from indexes.services.ingestion import (
    record_apply,
    record_apply_dry_run,
    record_retract,
    record_retract_dry_run,
    record_validate,
)

# URL segment -> (record kind, wire-format serializer)
KINDS = {
    "cases": ("case", payloads.CaseIn),
    "documents": ("document", payloads.DocumentIn),
    "grants": ("grant", payloads.GrantIn),
    "payments": ("payment", payloads.PaymentIn),
}

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problems(*codes: int) -> dict:
    """Schema entries for error answers: ``application/problem+json`` bodies.

    Every operation is rate limited (``indexes.api.throttling``), so 429 is always
    one; every one answers 503 (with ``Retry-After``) while the database does not
    answer (``indexes.middleware``), and 400 to a URL with a NUL byte
    (``config.middleware``).
    """
    return {
        (code, PROBLEM_MEDIA_TYPE): OpenApiResponse(ProblemSerializer, description="A problem.")
        for code in sorted({400, *codes, 429, 503})
    }


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN},
    OpenApiParameter.HEADER,
    description="Replays the stored answer of an earlier request with the same key "
    "(kept 24 h); the same key with another request is a 422 problem.",
)
# The id in the path follows the rule of every external id (indexes.payloads).
EXTERNAL_ID = OpenApiParameter(
    "external_id",
    {"type": "string", "minLength": 1, "maxLength": 100, **payloads.ExternalIdField().schema()},
    OpenApiParameter.PATH,
    description="The source system's own id of the record: printable ASCII that a URL "
    'path holds as it is (may contain "/"), never a CPR number.',
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The record\'s ETag (e.g. "3") or *; 412 when it no longer matches.',
)
# A retraction's time, as a record's source_timestamp (format, offset and bounds).
_TIMESTAMP_SCHEMA = {
    "type": "string",
    "format": "date-time",
    "pattern": payloads.DATETIME_PATTERN,
}
# A retraction's time travels in this header only (schema and code agree: required).
# The query parameter ``source_timestamp`` that API v1 once also took is refused by name.
SOURCE_TIMESTAMP = OpenApiParameter(
    "Source-Timestamp",
    _TIMESTAMP_SCHEMA,
    OpenApiParameter.HEADER,
    required=True,
    description="The source system's time of the retraction (ISO 8601 with offset, "
    "as a record's source_timestamp). Required.",
)


def _timestamp_parse(raw: str):
    """``raw`` as an aware datetime the index can store, or the ``FieldProblem`` why not.

    The same check as a record's ``source_timestamp`` (format, offset, bounds).
    """
    try:
        return payloads.DateTimeField().check(raw.strip())
    except payloads.FieldProblem as problem:
        return problem


def _etag(version: int) -> str:
    return f'"{version}"'


def _if_match_holds(header: str, version: int | None) -> bool:
    # RFC 9110 §13.1.1: strong comparison; "*" matches any current representation.
    tags = [tag.strip() for tag in header.split(",")]
    if version is None:
        return False
    return "*" in tags or _etag(version) in tags


def _precondition_check(request, *, source_system, kind: str, external_id: str) -> None:
    header = request.headers.get("If-Match")
    if header is None:
        return
    try:
        instance = record_get(source_system=source_system, kind=kind, external_id=external_id)
    except RecordNotFound:
        version = None
    else:
        rows = type(instance).objects
        if not request.dry_run:
            # Lock the row so no concurrent write slips between the check and ours
            # (a dry run only reads: it writes nothing to guard).
            rows = rows.select_for_update()
        version = rows.filter(pk=instance.pk).values_list("version", flat=True).first()
    if not _if_match_holds(header, version):
        raise ProblemError(
            status_code=412,
            detail="If-Match passer ikke med postens nuværende ETag; hent posten igen.",
            errors=[{"pointer": "", "code": "etag_mismatch", "message": "If-Match"}],
        )


def _citizen_reads_log(*, source_system: SourceSystem, kind: str, records: list[dict]) -> None:
    """One access-log row per citizen whose CPR is in ``records`` (not per field or record)."""
    cprs = {}
    for record in records:
        party = record.get("party")
        if isinstance(party, dict) and party.get("cpr"):
            cprs.setdefault(party["cpr"], []).append(record.get("external_id", ""))
    for cpr, external_ids in cprs.items():
        shown = ", ".join(external_ids[:5]) + (" …" if len(external_ids) > 5 else "")
        data_access_record(
            cpr=cpr,
            actor_type=DataAccess.Actor.SOURCE_SYSTEM,
            channel=DataAccess.Channel.API_READBACK,
            record_kind=kind,
            detail=f"{kind}: {shown}",
            source_system=source_system,
            municipality=source_system.municipality,
        )


class RecordPagination(CursorPagination):
    """Cursor pages in id order; a cursor or page size that is not one is a 400 naming it.

    DRF answers a malformed cursor 404 and lets a well-formed one with a position
    that is no id through to the query (a 500), and ignores a bad ``page_size``.
    """

    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    @staticmethod
    def _refuse(name: str, message: str):
        return ProblemError(
            status_code=400,
            detail=f"{name} er ugyldig.",
            errors=[{"pointer": name, "code": "invalid", "message": message}],
        )

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or int(raw) < 1:
            raise self._refuse(
                "page_size",
                f"A whole number from 1 (more than {self.max_page_size} gives {self.max_page_size}).",
            )
        return min(int(raw), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": 999999999}
                parameter["description"] = (
                    f"Records per page, 1 or more (default {self.page_size}; "
                    f"more than {self.max_page_size} gives {self.max_page_size})."
                )
        return parameters

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = False
        position = getattr(cursor, "position", None)
        if (
            cursor is False
            or (
                position is not None
                and not (position.isascii() and position.isdigit() and len(position) <= 18)
            )
            or (cursor and cursor.offset > 10**6)
        ):
            raise self._refuse("cursor", "Not a cursor of this list: use the next/previous links.")
        return cursor


def _path_id_check(external_id: str) -> None:
    """The id in the URL is an external id (``indexes.payloads.ExternalIdField``), else 422.

    Checked for every method before anything is looked up: an id that holds a CPR
    number must not be used at all, and the answer names the field, never the value.
    """
    problem = payloads.external_id_problem(external_id)
    if problem is not None:
        raise ProblemError(
            status_code=422,
            detail="Adressens eksterne id er ugyldigt; se errors.",
            errors=[{"pointer": "/external_id", "code": problem.code, "message": problem.message}],
        )


def _dry_run_answer(outcome) -> Response:
    """200 with the outcome the write would have had (no ETag: no such version exists)."""
    return Response(WriteResultSerializer(outcome).data | {"dry_run": True})


def _record_detail_view(segment: str, kind: str, serializer):
    tag = segment

    class RecordDetailApi(IndexApiView):
        def initial(self, request, *args, **kwargs):
            super().initial(request, *args, **kwargs)
            _path_id_check(kwargs["external_id"])

        @extend_schema(
            operation_id=f"{kind}_get",
            tags=[tag],
            summary=f"Read back one of your own {segment}",
            parameters=[EXTERNAL_ID],
            # 422: the id in the URL is no external id (a CPR-shaped one, say).
            responses={200: serializer, **problems(401, 404, 422)},
        )
        def get(self, request, external_id: str):
            """One record of the caller in the wire format, with its ``ETag``.

            Another system's record answers exactly like a missing one (404).
            """
            instance = record_get(
                source_system=self.source_system, kind=kind, external_id=external_id
            )
            data = record_to_payload(kind=kind, instance=instance)
            _citizen_reads_log(source_system=self.source_system, kind=kind, records=[data])
            return Response(data, headers={"ETag": _etag(instance.version)})

        @extend_schema(
            operation_id=f"{kind}_put",
            tags=[tag],
            summary=f"Create or update one of your {segment} (idempotent)",
            parameters=[EXTERNAL_ID, IDEMPOTENCY_KEY, IF_MATCH, DRY_RUN],
            request=serializer,
            responses={
                200: WriteResultSerializer,
                201: WriteResultSerializer,
                **problems(400, 401, 404, 412, 413, 415, 422),
            },
        )
        @idempotent
        def put(self, request, external_id: str):
            """Upsert the record ``external_id``: 201 created, 200 updated/unchanged/stale.

            An older ``source_timestamp`` than the stored one writes nothing
            (outcome ``stale``); an identical replay is ``unchanged``.
            """
            record = request.data
            if not isinstance(record, dict):
                raise ProblemError(
                    status_code=422,
                    detail="Kroppen skal være et JSON-objekt.",
                    errors=[{"pointer": "", "code": "invalid", "message": "Skal være et objekt."}],
                )
            if record.get("external_id", external_id) != external_id:
                raise ProblemError(
                    status_code=422,
                    detail="external_id i kroppen skal være det samme som i adressen.",
                    errors=[
                        {
                            "pointer": "/external_id",
                            "code": "external_id_mismatch",
                            "message": "external_id differs from the one in the URL.",
                        }
                    ],
                )
            payload = record | {"external_id": external_id}
            try:
                _precondition_check(
                    request, source_system=self.source_system, kind=kind, external_id=external_id
                )
            except ProblemError:
                # A body that breaks the contract is answered as such (422) before
                # a failed precondition: both must be fixed, the body first.
                record_validate(source_system=self.source_system, kind=kind, payload=payload)
                raise
            if request.dry_run:
                outcome = record_apply_dry_run(
                    source_system=self.source_system, kind=kind, payload=payload
                )
                return _dry_run_answer(outcome)
            outcome = record_apply(source_system=self.source_system, kind=kind, payload=payload)
            created = outcome.outcome == "created"
            headers = {"ETag": _etag(outcome.version)}
            if created:
                headers["Location"] = request.build_absolute_uri()
            return Response(
                WriteResultSerializer(outcome).data,
                status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
                headers=headers,
            )

        @extend_schema(
            operation_id=f"{kind}_delete",
            tags=[tag],
            summary=f"Retract one of your {segment}",
            parameters=[
                EXTERNAL_ID,
                IDEMPOTENCY_KEY,
                IF_MATCH,
                SOURCE_TIMESTAMP,
                DRY_RUN,
            ],
            request=None,
            responses={200: WriteResultSerializer, **problems(401, 404, 412, 422)},
        )
        @idempotent
        def delete(self, request, external_id: str):
            """Retract the record as of ``Source-Timestamp``; an older timestamp is ``stale``."""
            if "source_timestamp" in request.query_params:
                raise ProblemError(
                    status_code=422,
                    detail="Tilbagekaldelsens tidspunkt angives i headeren Source-Timestamp.",
                    errors=[
                        {
                            "pointer": "/source_timestamp",
                            "code": "header_required",
                            "message": "The query parameter source_timestamp is not accepted: "
                            "send the time in the Source-Timestamp header.",
                        }
                    ],
                )
            raw = request.headers.get("Source-Timestamp")
            parsed = _timestamp_parse(raw) if raw is not None else None
            if parsed is None or isinstance(parsed, payloads.FieldProblem):
                raise ProblemError(
                    status_code=422,
                    detail="Source-Timestamp (ISO 8601 med tidszone) skal angives ved tilbagekaldelse.",
                    errors=[
                        {
                            "pointer": "/source_timestamp",
                            "code": parsed.code if parsed else "required",
                            "message": "Source-Timestamp header: "
                            + (parsed.message if parsed else "ISO 8601 datetime with offset."),
                        }
                    ],
                )
            timestamp = parsed
            _precondition_check(
                request, source_system=self.source_system, kind=kind, external_id=external_id
            )
            retract = record_retract_dry_run if request.dry_run else record_retract
            outcome = retract(
                source_system=self.source_system,
                kind=kind,
                external_id=external_id,
                source_timestamp=timestamp,
            )
            if request.dry_run:
                return _dry_run_answer(outcome)
            return Response(
                WriteResultSerializer(outcome).data, headers={"ETag": _etag(outcome.version)}
            )

    RecordDetailApi.__name__ = RecordDetailApi.__qualname__ = f"{kind.title()}DetailApi"
    return RecordDetailApi


def _record_list_view(segment: str, kind: str, serializer):
    class RecordListApi(IndexApiView):
        pagination_class = RecordPagination

        @extend_schema(
            operation_id=f"{kind}_list",
            tags=[segment],
            summary=f"List your own {segment}",
            responses={200: serializer(many=True), **problems(401)},
        )
        def get(self, request):
            """The caller's records of this kind, oldest first, cursor-paginated."""
            paginator = self.pagination_class()
            page = paginator.paginate_queryset(
                records_list(source_system=self.source_system, kind=kind), request, view=self
            )
            data = [record_to_payload(kind=kind, instance=instance) for instance in page]
            _citizen_reads_log(source_system=self.source_system, kind=kind, records=data)
            return paginator.get_paginated_response(data)

    RecordListApi.__name__ = RecordListApi.__qualname__ = f"{kind.title()}ListApi"
    return RecordListApi


DETAIL_VIEWS = {seg: _record_detail_view(seg, kind, ser) for seg, (kind, ser) in KINDS.items()}
LIST_VIEWS = {seg: _record_list_view(seg, kind, ser) for seg, (kind, ser) in KINDS.items()}
