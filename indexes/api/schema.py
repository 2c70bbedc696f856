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


def _payload_serializers():
    from rest_framework import serializers

    from indexes import payloads

    return [
        value
        for value in vars(payloads).values()
        if isinstance(value, type)
        and issubclass(value, serializers.Serializer)
        and value.__module__ == payloads.__name__
    ]


def payload_constraints(result, generator, request, public):
    """POSTPROCESSING_HOOK: what the record validators enforce and drf-spectacular leaves out.

    The validators (``indexes.services.validation``) refuse unknown fields at
    every level, so the request components are closed
    (``additionalProperties: false``); list sizes of many=True serializers
    (``allow_empty``, ``max_length``) become ``minItems``/``maxItems``.
    """
    from rest_framework import serializers

    schemas = result.get("components", {}).get("schemas", {})
    for serializer_class in _payload_serializers():
        component = schemas.get(f"{serializer_class.__name__}Request")
        if not component or component.get("type") != "object":
            continue
        component["additionalProperties"] = False
        properties = component.get("properties", {})
        for name, field in serializer_class().fields.items():
            if not isinstance(field, serializers.ListSerializer | serializers.ListField):
                continue
            prop = properties.get(name)
            if prop is None or prop.get("type") != "array":
                continue
            if not field.allow_empty:
                prop["minItems"] = max(prop.get("minItems", 0), 1)
            if field.max_length is not None:
                prop["maxItems"] = field.max_length
    return result
