"""Borgerblikket's part of the index API v1: a source system's own conformance report."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from borgerblikket.selectors.conformance import conformance_report
from indexes.api.base import IndexApiView
from indexes.api.records import problems


class ConformanceApi(IndexApiView):
    """GET the calling installation's conformance report (issue 18, seed 004)."""

    @extend_schema(
        operation_id="conformance_report",
        summary="Your installation's conformance report",
        description=(
            "Kinds and operations delivered, replays and stale updates seen, retractions, "
            "rejections by problem code and their rate, title and KLE quality, and whether "
            "the product is approved for roll-out (docs/api.md, 'Sandbox and conformance')."
        ),
        responses={
            200: inline_serializer(
                "ConformanceReport",
                {
                    "source_system_id": serializers.IntegerField(),
                    "name": serializers.CharField(),
                    "product": serializers.CharField(),
                    "municipality": serializers.CharField(),
                    "sandbox": serializers.BooleanField(),
                    "kinds_delivered": serializers.ListField(child=serializers.CharField()),
                    "operations": serializers.DictField(
                        child=serializers.DictField(child=serializers.IntegerField())
                    ),
                    "received": serializers.IntegerField(),
                    "applied": serializers.IntegerField(),
                    "replays_unchanged": serializers.IntegerField(),
                    "stale_rejected_writes": serializers.IntegerField(),
                    "retractions": serializers.IntegerField(),
                    "rejected": serializers.IntegerField(),
                    "problems_by_code": serializers.DictField(child=serializers.IntegerField()),
                    "problem_rate": serializers.FloatField(),
                    "live_cases": serializers.IntegerField(),
                    "live_documents": serializers.IntegerField(),
                    "case_titles_breaking_rules": serializers.IntegerField(),
                    "case_titles_without_lead_word": serializers.IntegerField(),
                    "document_titles_breaking_rules": serializers.IntegerField(),
                    "cases_on_expired_or_moved_kle": serializers.IntegerField(),
                    "kle_rejections": serializers.IntegerField(),
                    "approval": inline_serializer(
                        "ProductApproval",
                        {
                            "product": serializers.CharField(),
                            "approved_by": serializers.CharField(),
                            "approved_at": serializers.CharField(),
                            "based_on": serializers.CharField(),
                            "note": serializers.CharField(),
                        },
                        allow_null=True,
                    ),
                },
            ),
            **problems(401),
        },
        tags=["conformance"],
    )
    def get(self, request):
        return Response(conformance_report(source_system=self.source_system).as_dict())
