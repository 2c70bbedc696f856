"""KOMBIT's XML operations beside the JSON API: SF1470 v6 and YI v6.

- ``POST /api/v1/yi/v6/ImporterYdelseIndeks``: grants and payments, as the SF1470 import.
- ``POST /api/v1/sf1470/v6/ImporterSagDokumentIndeks``: an
  ``ImporterSagDokumentIndeksInput`` with any number of ``SagIndeks`` and
  ``DokumentIndeks`` (1-1,000 records), delivered through the inbox exactly as a JSON
  ``POST /batches`` (202 and a batch to poll; ``?dry_run=true`` answers 200 at once).
- ``POST /api/v1/sf1470/v6/FjernSagDokumentIndeks``: a ``FjernSagDokumentIndeksInput``
  naming cases by ``SagUuid``, each retracted as a JSON ``DELETE`` is, as of the
  ``Source-Timestamp`` header (the operation carries no time of its own).

The body is parsed safely (``indexes.kombit.safe``), validated against KOMBIT's XSDs
(``indexes.kombit.schemas``) and mapped (``indexes.kombit.sf1470``) before it meets the
same services as JSON. Answers are JSON (problem documents too); each problem's
``pointer`` is the XPath of the element at fault and ``line`` its line. docs/sf1470.md.
"""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser
from rest_framework.response import Response

from indexes import payloads
from indexes.api.base import IndexApiView
from indexes.api.batches import BatchCreateApi, batch_accepted
from indexes.api.dry_run import DRY_RUN
from indexes.api.idempotency import idempotent
from indexes.api.problems import ProblemError
from indexes.api.records import (
    IDEMPOTENCY_KEY,
    SOURCE_TIMESTAMP,
    _timestamp_parse,
    problems,
)
from indexes.api.serializers import WriteResultSerializer
from indexes.kombit import sf1470, yi
from indexes.kombit.safe import XmlRefused, xml_parse
from indexes.kombit.schemas import element_xpath, xml_validate
from indexes.services.errors import RecordNotFound, RecordRejected
from indexes.services.inbox import inbox_batch_dry_run, inbox_batch_receive
from indexes.services.ingestion import record_retract, record_retract_dry_run

XML_MEDIA_TYPES = ("application/xml", "text/xml")


class XmlBodyParser(BaseParser):
    """The body as bytes, for ``application/xml`` (and ``text/xml``); parsed by the view."""

    media_type = "application/xml"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read() if stream is not None else b""


class TextXmlBodyParser(XmlBodyParser):
    media_type = "text/xml"


def _xml_problem(exc: XmlRefused) -> ProblemError:
    if exc.code == "too_large":
        return ProblemError(status_code=413, detail=exc.message)
    return ProblemError(
        status_code=400,
        problem_type="malformed-xml",
        detail="Kroppen er ikke et XML-dokument, som kan modtages; se errors.",
        errors=[{"pointer": "", "line": exc.line, "code": exc.code, "message": exc.message}],
    )


def _invalid(
    errors: list[dict], detail: str = "Dokumentet er ugyldigt; se errors."
) -> ProblemError:
    return ProblemError(
        status_code=422, problem_type="invalid-record", detail=detail, errors=errors
    )


class _KombitXmlView(IndexApiView):
    parser_classes = [XmlBodyParser, TextXmlBodyParser]
    # The root element each operation takes.
    root_tag = ""
    xsd = "sf1470"

    def _document(self, request):
        """The request's XML root, parsed, of this operation and valid against the XSDs."""
        raw = request.data if isinstance(request.data, bytes) else b""
        try:
            root = xml_parse(raw, max_bytes=settings.INDEXES_XML_MAX_BYTES)
        except XmlRefused as exc:
            raise _xml_problem(exc) from None
        if root.tag != self.root_tag:
            raise _invalid(
                [
                    {
                        "pointer": element_xpath(root),
                        "line": root.sourceline,
                        "code": "wrong_operation",
                        "message": f"This operation takes {self.root_tag.split('}')[1]}.",
                    }
                ]
            )
        found = xml_validate(root=root, schema=self.xsd)
        if found:
            raise _invalid([problem.as_error() for problem in found])
        return root


XML_BODY = {"application/xml": {"type": "string", "format": "binary"}}


class _ImportApi(_KombitXmlView):
    """An import operation: its records mapped, then delivered as a JSON bulk batch is."""

    mapper = staticmethod(sf1470.import_map)

    def _import(self, request):
        """Validate and map every record; store the accepted ones as a batch; 202."""
        root = self._document(request)
        mapped = self.mapper(root, municipality=self.source_system.municipality.code)
        if not mapped:
            raise _invalid(
                [
                    {
                        "pointer": element_xpath(root),
                        "line": root.sourceline,
                        "code": "batch_size",
                        "message": "The document holds no record.",
                    }
                ]
            )
        items = [{"kind": m.kind, "record": m.record} for m in mapped]

        def locate(position: int, pointer: str):
            return mapped[position].locate(pointer)

        try:
            if request.dry_run:
                rejections, records = inbox_batch_dry_run(
                    source_system=self.source_system, items=items, locate=locate
                )
                return Response(
                    BatchCreateApi.DryRunOutputSerializer(
                        {
                            "dry_run": True,
                            "received": len(items),
                            "accepted": len(items) - len(rejections),
                            "rejected": rejections,
                            "records": records,
                        }
                    ).data
                )
            batch, rejections = inbox_batch_receive(
                source_system=self.source_system, items=items, locate=locate
            )
        except RecordRejected as exc:
            rejections = getattr(exc, "rejections", None)
            if rejections is None:
                raise
            raise _invalid(
                [problem for rejection in rejections for problem in rejection["problems"]],
                detail="Ingen post i dokumentet blev modtaget; se errors.",
            ) from None
        return batch_accepted(request, batch, rejections)


class Sf1470ImportApi(_ImportApi):
    root_tag = sf1470.IMPORT

    @extend_schema(
        operation_id="sf1470_import",
        tags=["sf1470"],
        summary="SF1470 v6 ImporterSagDokumentIndeks: cases and documents in KOMBIT's XML",
        description=(
            "An `ImporterSagDokumentIndeksInput` (namespace "
            "`urn:oio:sts:sagdok:sagdokumentindeks:6`) with 1-1000 `SagIndeks` and "
            "`DokumentIndeks`, validated against KOMBIT's XSDs and mapped to the JSON records "
            "(docs/sf1470.md). Delivered through the inbox as `POST /batches`: 202 with the "
            "batch to poll; with `?dry_run=true` 200 and every record's outcome. Problems "
            "name the element: `pointer` is its XPath, `line` its line."
        ),
        parameters=[IDEMPOTENCY_KEY, DRY_RUN],
        request=XML_BODY,
        responses={
            200: BatchCreateApi.DryRunOutputSerializer,
            202: BatchCreateApi.OutputSerializer,
            **problems(400, 401, 413, 415, 422),
        },
    )
    @idempotent
    def post(self, request):
        """Validate and map every record; store the accepted ones as a batch; 202."""
        return self._import(request)


class YiImportApi(_ImportApi):
    root_tag = yi.IMPORT
    xsd = "yi"
    mapper = staticmethod(yi.import_map)

    @extend_schema(
        operation_id="yi_import",
        tags=["yi"],
        summary="YI v6 ImporterYdelseIndeks: grants and payments in KOMBIT's XML",
        description=(
            "An `ImporterYdelseIndeksInput` (namespace `urn:oio:sts:ydelse:ydelseindeks:6`) "
            "with 1-1000 `BevillingIndeks` and `OekonomiskEffektueringIndeks`, validated "
            "against KOMBIT's XSDs and mapped to the JSON grant and payment records "
            "(docs/sf1470.md, YI). Delivered through the inbox as `POST /batches`, as the "
            "SF1470 import is."
        ),
        parameters=[IDEMPOTENCY_KEY, DRY_RUN],
        request=XML_BODY,
        responses={
            200: BatchCreateApi.DryRunOutputSerializer,
            202: BatchCreateApi.OutputSerializer,
            **problems(400, 401, 413, 415, 422),
        },
    )
    @idempotent
    def post(self, request):
        """Validate and map every record; store the accepted ones as a batch; 202."""
        return self._import(request)


class RemovalResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(required=False)
    records = WriteResultSerializer(many=True)


class Sf1470RemoveApi(_KombitXmlView):
    root_tag = sf1470.REMOVE

    @extend_schema(
        operation_id="sf1470_remove",
        tags=["sf1470"],
        summary="SF1470 v6 FjernSagDokumentIndeks: retract cases by SagUuid",
        description=(
            "A `FjernSagDokumentIndeksInput` naming your cases by `SagUuid`. SF1470's Fjern "
            "carries no time of its own, so it is ordered by the `Source-Timestamp` header "
            "(required, as on a JSON DELETE): each case is retracted as of that time, or is "
            "`stale` when it has a newer version. All or nothing: a `SagUuid` that is not a "
            "case of yours is a 404 naming it, and nothing is retracted."
        ),
        parameters=[IDEMPOTENCY_KEY, SOURCE_TIMESTAMP, DRY_RUN],
        request=XML_BODY,
        responses={200: RemovalResultSerializer, **problems(400, 401, 404, 413, 415, 422)},
    )
    @idempotent
    def post(self, request):
        """Retract every named case as of ``Source-Timestamp``; 200 with each outcome."""
        raw = request.headers.get("Source-Timestamp")
        parsed = _timestamp_parse(raw) if raw is not None else None
        if parsed is None or isinstance(parsed, payloads.FieldProblem):
            raise ProblemError(
                status_code=422,
                detail="Source-Timestamp (ISO 8601 med tidszone) skal angives ved Fjern.",
                errors=[
                    {
                        "pointer": "/source_timestamp",
                        "code": parsed.code if parsed is not None else "required",
                        "message": "Source-Timestamp header: FjernSagDokumentIndeks carries no "
                        "time of its own; send the time of the removal in your system.",
                    }
                ],
            )
        root = self._document(request)
        refused = [
            element
            for name in ("sdi:FjernOgsaaYdelse",)
            for element in root.findall(name, sf1470.NS)
            if (element.text or "").strip() in ("true", "1")
        ]
        if refused:
            raise _invalid(
                [
                    {
                        "pointer": element_xpath(element),
                        "line": element.sourceline,
                        "code": "not_supported",
                        "message": "Removing the benefits with the case is not supported: "
                        "retract grants through the benefit index.",
                    }
                    for element in refused
                ]
            )
        retract = record_retract_dry_run if request.dry_run else record_retract
        outcomes = []
        for external_id, element in sf1470.removal_ids(root):
            problem = payloads.external_id_problem(external_id)
            if problem is not None:
                raise _invalid(
                    [
                        {
                            "pointer": element_xpath(element),
                            "line": element.sourceline,
                            "code": problem.code,
                            "message": problem.message,
                        }
                    ]
                )
            try:
                outcomes.append(
                    retract(
                        source_system=self.source_system,
                        kind="case",
                        external_id=external_id,
                        source_timestamp=parsed,
                    )
                )
            except RecordNotFound:
                raise ProblemError(
                    status_code=404,
                    detail="Sagen findes ikke; intet er fjernet.",
                    errors=[
                        {
                            "pointer": element_xpath(element),
                            "line": element.sourceline,
                            "code": "not_found",
                            "message": "No case of yours with this SagUuid.",
                        }
                    ],
                ) from None
        data = {"records": WriteResultSerializer(outcomes, many=True).data}
        if request.dry_run:
            data["dry_run"] = True
        return Response(data)
