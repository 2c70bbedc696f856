"""Serializers of the API envelope (not the records: those are ``indexes.payloads``)."""

from rest_framework import serializers

from indexes.models import InboxRecord
from indexes.services.ingestion import RECORD_KINDS


class ProblemErrorSerializer(serializers.Serializer):
    pointer = serializers.CharField(help_text="JSON pointer (RFC 6901) into the request body.")
    code = serializers.CharField(help_text="Machine-readable, e.g. invalid_cpr, unknown_kle.")
    message = serializers.CharField(help_text="Danish or English; never echoes a CPR number.")
    line = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="XML deliveries only: the line of the element at fault; pointer is its XPath.",
    )


class ProblemSerializer(serializers.Serializer):
    """``application/problem+json`` (RFC 9457)."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = ProblemErrorSerializer(many=True, required=False)


class WriteResultSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RECORD_KINDS)
    external_id = serializers.CharField()
    outcome = serializers.ChoiceField(
        choices=[c for c in InboxRecord.Outcome.values if c not in ("pending", "rejected")],
        help_text="created, updated, unchanged (identical replay), stale (older "
        "source_timestamp than the stored one: nothing written) or retracted.",
    )
    version = serializers.IntegerField(
        help_text="The record's version after the request (its ETag)."
    )
    dry_run = serializers.BooleanField(
        required=False,
        help_text="Present (true) only in the answer to a dry run: nothing was written.",
    )
