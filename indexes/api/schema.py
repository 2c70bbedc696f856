"""drf-spectacular glue: the bearer-key scheme and the paths the schema covers."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "indexes.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "`Authorization: Bearer <key_id>.<secret>`, issued by an "
            "operator (admin, or `manage.py api_credential_issue`) and shown once. A "
            "vendor key covering several installations of one product names the one it "
            "acts for in the header `Source-System: <installation id>` (400 "
            "`source_system_required` without it, 403 `source_system_not_covered` for "
            "one it does not cover). A revoked key, or a rotated one after its overlap, "
            "is a 401 with the code `key_revoked` or `key_expired`.",
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


def _field_schema(field) -> dict:
    """What a wire field's own ``check`` accepts beyond its type and length (pattern, not)."""
    schema = getattr(field, "schema", None)
    return schema() if callable(schema) else {}


# What ends every pattern the schema states: the end of the value and nothing after it.
# JSON Schema's ``$`` (ECMA 262, no ``m`` flag) is the end of the value, Python's also
# matches before a final "\n"; clients and Schemathesis (Hypothesis' ``from_regex``,
# checked with ``re.search``) read a pattern the Python way, so a bare ``$`` would make
# "101\n" a valid 3-digit code. ``(?!\n)$`` means the same in both dialects.
END_OF_VALUE = r"(?!\n)$"


def end_of_value(pattern: str) -> str:
    """``pattern`` with its final ``$`` as ``END_OF_VALUE`` (once; an escaped dollar stays)."""
    if pattern.endswith(END_OF_VALUE) or not pattern.endswith("$") or pattern.endswith(r"\$"):
        return pattern
    return pattern[:-1] + END_OF_VALUE


def _patterns_end_of_value(node) -> None:
    """Every ``pattern`` in ``node`` ends at the end of the value (``end_of_value``).

    Those under ``not`` (what a value must not contain, such as a CPR-shaped number) are
    left as they are: a stricter ``not`` pattern would make the schema looser.
    """
    if isinstance(node, list):
        for item in node:
            _patterns_end_of_value(item)
    elif isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            node["pattern"] = end_of_value(node["pattern"])
        for key, value in node.items():
            if key != "not":
                _patterns_end_of_value(value)


def _nullable_refs(node) -> None:
    """A nullable nested object as ``oneOf`` the object or null.

    drf-spectacular writes ``allOf: [$ref], nullable: true``; OpenAPI 3.0's ``nullable``
    does not reach into ``allOf``, so validators (openapi-core, Schemathesis) refuse the
    ``null`` the API sends and accepts (a document without a sender, a case without a
    party). ``{enum: [null], nullable: true}`` is 3.0.3's way of saying "null".
    """
    if isinstance(node, list):
        for item in node:
            _nullable_refs(item)
        return
    if not isinstance(node, dict):
        return
    all_of = node.get("allOf")
    if node.get("nullable") is True and isinstance(all_of, list) and len(all_of) == 1:
        node.pop("allOf")
        node.pop("nullable")
        node["oneOf"] = [all_of[0], {"type": "object", "nullable": True, "enum": [None]}]
    for value in node.values():
        _nullable_refs(value)


def payload_constraints(result, generator, request, public):
    """POSTPROCESSING_HOOK: what the record validators enforce and drf-spectacular leaves out.

    The schema says exactly what the code accepts (issue 12.10; the contract test
    ``tests/indexes/test_api_contract.py`` sends schema-valid requests and fails on
    any refused for their form):

    - unknown fields are refused at every level (``additionalProperties: false``);
    - list sizes of many=True serializers (``allow_empty``, ``max_length``) become
      ``minItems``/``maxItems``;
    - every leaf's pattern is its field's ``schema()`` (``indexes.payloads``): external
      ids, case numbers, texts without control characters, codes, amounts;
    - a party names exactly one of ``cpr``/``cvr`` (a document's sender and recipient, a
      case's secondary parties and benefit recipient also a ``name``; either may be null);
    - a bulk item is one of the four kinds with its record's schema, 1-1000 of them;
    - every pattern ends with ``(?!\\n)$`` (``END_OF_VALUE``), not a bare ``$``, so it
      means in Python what it means in JSON Schema.
    """
    from rest_framework import serializers

    from indexes.payloads import CasePartyIn, DocumentPartyIn, PartyIn
    from indexes.services.inbox import MAX_BATCH_RECORDS

    schemas = result.get("components", {}).get("schemas", {})
    for serializer_class in _payload_serializers():
        # The same record read back (GET) has the form its field's check gives it, not
        # drf-spectacular's looser guess (an amount pattern that matched "" and "-").
        answer = schemas.get(serializer_class.__name__)
        for name, field in serializer_class().fields.items():
            prop = (answer or {}).get("properties", {}).get(name)
            if prop is not None and not isinstance(field, serializers.ListField):
                # Its pattern only: a ``not`` would also refuse a null (nullable) value.
                prop.update({k: v for k, v in _field_schema(field).items() if k == "pattern"})
        component = schemas.get(f"{serializer_class.__name__}Request")
        if not component or component.get("type") != "object":
            continue
        component["additionalProperties"] = False
        if serializer_class is PartyIn:
            component["minProperties"] = component["maxProperties"] = 1
        elif serializer_class in (DocumentPartyIn, CasePartyIn):
            # Exactly one number, and the name or not (both numbers match both branches).
            component["oneOf"] = [{"required": ["cpr"]}, {"required": ["cvr"]}]
        properties = component.get("properties", {})
        for name, field in serializer_class().fields.items():
            prop = properties.get(name)
            if prop is None:
                continue
            if isinstance(field, serializers.ListField):
                prop.get("items", {}).update(_field_schema(field.child))
            else:
                prop.update(_field_schema(field))
            if not isinstance(field, serializers.ListSerializer | serializers.ListField):
                continue
            if prop.get("type") != "array":
                continue
            if not field.allow_empty:
                prop["minItems"] = max(prop.get("minItems", 0), 1)
            if field.max_length is not None:
                prop["maxItems"] = field.max_length
    batch = schemas.get("BatchInRequest")
    if batch:
        records = batch["properties"]["records"]
        records["minItems"], records["maxItems"] = 1, MAX_BATCH_RECORDS
    item = schemas.get("BatchItemRequest")
    if item:
        item.clear()
        item.update(
            {
                "description": "A record and its kind: the record in the wire format of that kind.",
                "oneOf": [
                    {
                        "type": "object",
                        "properties": {
                            "kind": {"type": "string", "enum": [kind]},
                            "record": {"$ref": f"#/components/schemas/{component}Request"},
                        },
                        "required": ["kind", "record"],
                    }
                    for kind, component in (
                        ("case", "CaseIn"),
                        ("document", "DocumentIn"),
                        ("grant", "GrantIn"),
                        ("payment", "PaymentIn"),
                    )
                ],
            }
        )
    _nullable_refs(result)
    _patterns_end_of_value(result)
    return result
