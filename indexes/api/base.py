"""What every index API view shares: bearer-key auth, rate limits, JSON only, problem errors."""

from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from indexes.api.dry_run import HEADER as DRY_RUN_HEADER
from indexes.api.parsers import ApiJSONParser
from indexes.api.problems import exception_handler
from indexes.api.throttling import AnonymousRateThrottle, CredentialRateThrottle
from indexes.authentication import ApiKeyAuthentication


class IndexApiView(APIView):
    """Base of the index API views: a source system authenticated by its API key."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [CredentialRateThrottle, AnonymousRateThrottle]
    # JSON in, JSON out: any other Content-Type is a 415 problem.
    parser_classes = [ApiJSONParser]
    renderer_classes = [JSONRenderer]

    # DRF checks throttles after authentication and permissions, so a caller
    # without a valid key would be refused (401) without ever being counted.
    # Here the limits are checked first: a wrong key counts against its IP.
    def perform_authentication(self, request):
        try:
            request.user  # noqa: B018 (authenticates)
        except exceptions.AuthenticationFailed:
            self.check_throttles(request)
            raise

    def check_permissions(self, request):
        self.check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request):
        if getattr(request, "_overblik_throttled", False):
            return
        request._overblik_throttled = True
        super().check_throttles(request)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Every answer to a dry run says so, a problem too (indexes.api.dry_run).
        if getattr(request, "dry_run", False):
            response[DRY_RUN_HEADER] = "true"
        return response

    def get_exception_handler(self):
        return exception_handler

    @property
    def source_system(self):
        return self.request.user.source_system
