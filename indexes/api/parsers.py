"""The index API's JSON parser: DRF's, plus two refusals it lacks (both were 500s).

- Nesting deeper than Python's recursion limit made ``json`` raise
  ``RecursionError``; and a body just shallow enough to parse failed later, at
  a deeper stack (DRF's ``JSONField`` re-encodes it: ``RecursionError``, a 500 at
  896 levels). Nesting beyond ``MAX_DEPTH`` is now a ``400 malformed-json``
  problem (``too_deep``), whatever the recursion limit.
- A ``\\uD800``-``\\uDFFF`` escape without its pair decodes to a lone surrogate,
  which no UTF-8 text (PostgreSQL, the answer's own JSON) can hold; it is now a
  ``400 malformed-json`` problem whose ``errors`` point at the value or key.

The surrogate walk runs only when the raw body contains such an escape, so
ordinary bodies cost what DRF's parser costs.
"""

import codecs
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

from indexes.api.problems import ProblemError

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# Levels of arrays and objects a body may have: a bulk batch of the deepest records
# has about six (envelope, records, item, record, progress, step); docs/api.md §errors.
MAX_DEPTH = 64


def _escape(token) -> str:
    # RFC 6901 §3, and the surrogate itself shown as its escape (it cannot be UTF-8).
    text = str(token).replace("~", "~0").replace("/", "~1")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _lone_surrogates(data) -> list[str]:
    """JSON pointers of the keys and strings in ``data`` holding a lone surrogate."""
    found = []
    stack = [("", data)]
    while stack:
        pointer, value = stack.pop()
        if isinstance(value, str):
            if _has_surrogate(value):
                found.append(pointer)
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{pointer}/{_escape(key)}"
                if _has_surrogate(key):
                    found.append(child)
                stack.append((child, item))
        elif isinstance(value, list):
            stack.extend((f"{pointer}/{index}", item) for index, item in enumerate(value))
    return sorted(found)


def _deeper_than(data, limit: int) -> bool:
    """True when ``data`` nests arrays/objects more than ``limit`` levels (no recursion)."""
    stack = [(data, 1)] if isinstance(data, dict | list) else []
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _too_deep() -> ProblemError:
    return _malformed(
        "Kroppen er indlejret for dybt.",
        [
            {
                "pointer": "",
                "code": "too_deep",
                "message": f"JSON nested more than {MAX_DEPTH} levels deep.",
            }
        ],
    )


def _malformed(detail: str, errors: list[dict]) -> ProblemError:
    return ProblemError(
        status_code=400, problem_type="malformed-json", detail=detail, errors=errors
    )


class ApiJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        try:
            text = codecs.decode(raw, encoding)
            # As DRF's parser: NaN and Infinity are refused (STRICT_JSON).
            data = json.loads(text, parse_constant=json.strict_constant)
        except RecursionError:
            raise _too_deep() from None
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError too
            raise ParseError(f"JSON parse error - {exc}") from None
        if _deeper_than(data, MAX_DEPTH):
            raise _too_deep()
        if _SURROGATE_ESCAPE.search(raw):
            pointers = _lone_surrogates(data)
            if pointers:
                raise _malformed(
                    "Kroppen indeholder en \\u-escape af en halv UTF-16-surrogat.",
                    [
                        {
                            "pointer": pointer,
                            "code": "invalid_unicode",
                            "message": "Lone UTF-16 surrogate escape (not a character).",
                        }
                        for pointer in pointers[:20]
                    ],
                )
        return data
