"""What every index API view shares: bearer-key auth, JSON only, problem errors."""

from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from indexes.api.problems import exception_handler
from indexes.authentication import ApiKeyAuthentication


class IndexApiView(APIView):
    """Base of the index API views: a source system authenticated by its API key."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsAuthenticated]
    # JSON in, JSON out: any other Content-Type is a 415 problem.
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self):
        return exception_handler

    @property
    def source_system(self):
        return self.request.user.source_system
