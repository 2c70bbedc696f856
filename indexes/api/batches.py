"""Bulk delivery: POST up to 1,000 mixed records, then poll the batch for results."""

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from indexes.api.base import IndexApiView
from indexes.api.dry_run import DRY_RUN
from indexes.api.idempotency import idempotent
from indexes.api.problems import ProblemError
from indexes.api.records import IDEMPOTENCY_KEY, PROBLEM_MEDIA_TYPE, problems
from indexes.api.serializers import ProblemErrorSerializer, ProblemSerializer
from indexes.models import InboxRecord
from indexes.services.errors import RecordNotFound
from indexes.services.inbox import (
    MAX_BATCH_RECORDS,
    inbox_batch_dry_run,
    inbox_batch_get,
    inbox_batch_receive,
)
from indexes.services.ingestion import RECORD_KINDS


class RejectionSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the record in the request.")
    kind = serializers.CharField(allow_blank=True)
    external_id = serializers.CharField(allow_blank=True)
    problems = ProblemErrorSerializer(many=True)


@extend_schema_serializer(component_name="BatchItem")
class BatchItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RECORD_KINDS)
    record = serializers.DictField(
        help_text="A record in the wire format of its kind (CaseIn, DocumentIn, GrantIn, PaymentIn)."
    )


@extend_schema_serializer(component_name="BatchRecord")
class BatchRecordSerializer(serializers.Serializer):
    index = serializers.IntegerField(source="position")
    kind = serializers.CharField()
    external_id = serializers.CharField()
    outcome = serializers.ChoiceField(choices=InboxRecord.Outcome.values)
    problems = ProblemErrorSerializer(many=True)


@extend_schema_field(BatchItemSerializer(many=True))
class BatchItemsField(serializers.ListField):
    """Any list: each item is checked by the service, so each stands or falls alone."""


class BatchCreateApi(IndexApiView):
    @extend_schema_serializer(component_name="BatchIn")
    class InputSerializer(serializers.Serializer):
        # Items are checked one by one by the service (each stands alone); only
        # the envelope is checked here.
        records = BatchItemsField(
            child=serializers.JSONField(),
            allow_empty=False,
            help_text=f"1-{MAX_BATCH_RECORDS} records, applied in this order.",
        )

    @extend_schema_serializer(component_name="BatchAccepted")
    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        status = serializers.CharField()
        url = serializers.CharField()
        received = serializers.IntegerField()
        accepted = serializers.IntegerField()
        rejected = RejectionSerializer(many=True)

    @extend_schema_serializer(component_name="BatchDryRun")
    class DryRunOutputSerializer(serializers.Serializer):
        dry_run = serializers.BooleanField()
        received = serializers.IntegerField()
        accepted = serializers.IntegerField()
        rejected = RejectionSerializer(many=True)
        records = BatchRecordSerializer(
            many=True,
            help_text="Every record's outcome as GET /batches/{id} would show it once done.",
        )

    @extend_schema(
        operation_id="batch_create",
        tags=["batches"],
        summary=f"Deliver up to {MAX_BATCH_RECORDS} records of any kinds",
        parameters=[IDEMPOTENCY_KEY, DRY_RUN],
        request=InputSerializer,
        responses={
            200: DryRunOutputSerializer,
            202: OutputSerializer,
            **problems(400, 401, 413, 415, 422),
        },
    )
    @idempotent
    def post(self, request):
        """Validate every record; store the accepted ones durably; 202 with the rejections.

        Accepted records are applied by workers in their order in the request;
        poll ``GET /api/v1/batches/{id}`` for each record's outcome. A dry run
        (``?dry_run=true``) answers 200 at once with every record's outcome, as the
        batch would show once done, and stores nothing.
        """
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if request.dry_run:
            items = serializer.validated_data["records"]
            rejections, records = inbox_batch_dry_run(source_system=self.source_system, items=items)
            return Response(
                self.DryRunOutputSerializer(
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
            source_system=self.source_system, items=serializer.validated_data["records"]
        )
        return batch_accepted(request, batch, rejections)


def batch_accepted(request, batch, rejections: list) -> Response:
    """The 202 of a stored batch (JSON bulk and the XML imports): where to poll it."""
    url = reverse("indexes:batch-detail", kwargs={"batch_id": batch.id})
    data = BatchCreateApi.OutputSerializer(
        {
            "id": batch.id,
            "status": batch.status,
            "url": url,
            "received": batch.record_count,
            "accepted": batch.record_count - len(rejections),
            "rejected": rejections,
        }
    ).data
    return Response(
        data,
        status=status.HTTP_202_ACCEPTED,
        headers={"Location": request.build_absolute_uri(url)},
    )


def batch_gone_detail() -> str:
    """The 404 of a batch id: unknown, another system's, or deleted under the retention."""
    return (
        "Batchen findes ikke: ukendt id, eller en batch der blev færdig (eller parkeret) for "
        f"mere end {settings.OVERBLIK_INBOX_RETENTION_DAYS} dage siden og derfor er slettet."
    )


BATCH_GONE = OpenApiResponse(
    ProblemSerializer,
    description="No such batch of yours: an unknown id, or a batch that finished (done or "
    "parked) more than the inbox retention ago (30 days by default) and has been deleted, "
    "records and all. The same answer in every case; the detail says so.",
)


class BatchDetailApi(IndexApiView):
    @extend_schema_serializer(component_name="Batch")
    class OutputSerializer(serializers.Serializer):
        RecordSerializer = BatchRecordSerializer

        id = serializers.UUIDField()
        status = serializers.CharField(
            help_text="pending until every record has an outcome, then done; parked when "
            "processing failed again and again (the operators are alerted and retry it). "
            "A done or parked batch is deleted after the inbox retention (30 days by "
            "default); then its id answers 404."
        )
        received_at = serializers.DateTimeField()
        finished_at = serializers.DateTimeField(allow_null=True)
        record_count = serializers.IntegerField()
        processed = serializers.IntegerField()
        records = RecordSerializer(many=True, source="records_list")

    @extend_schema(
        operation_id="batch_get",
        tags=["batches"],
        summary="Outcome of each record of a batch",
        responses={
            200: OutputSerializer,
            **problems(401, 404),
            (404, PROBLEM_MEDIA_TYPE): BATCH_GONE,
        },
    )
    def get(self, request, batch_id):
        """The batch and each record's outcome (created, updated, unchanged, stale,
        retracted, rejected with problems, or pending).

        A batch is kept while pending and for the inbox retention (30 days by default)
        after it is done or parked; then it is deleted with its records and its id
        answers 404, as an unknown id does. Fetch the outcome before then."""
        try:
            batch = inbox_batch_get(source_system=self.source_system, batch_id=batch_id)
        except RecordNotFound:
            raise ProblemError(status_code=404, detail=batch_gone_detail()) from None
        batch.records_list = list(
            batch.records.only("position", "kind", "external_id", "outcome", "problems")
        )
        data = self.OutputSerializer(batch).data
        return Response(data)
