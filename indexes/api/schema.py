"""drf-spectacular glue: the bearer-key scheme and the paths the schema covers."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "indexes.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "`Authorization: Bearer <key_id>.<secret>`, issued with "
            "`manage.py api_credential_issue`.",
        }


def index_api_only(endpoints, **kwargs):
    """PREPROCESSING_HOOK: the schema documents the index API v1 and nothing else."""
    return [
        (path, path_regex, method, callback)
        for path, path_regex, method, callback in endpoints
        if path.startswith("/api/v1/") and not path.startswith(("/api/v1/schema", "/api/v1/docs"))
    ]
