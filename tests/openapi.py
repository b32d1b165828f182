"""xAI's OpenAPI document (vendored in ``tests/data``, see its README) as JSON Schema validators.

An OpenAPI 3.1 document's schema objects are JSON Schema 2020-12 (this one writes
nullable values as ``"type": [..., "null"]``, never with 3.0's ``nullable``), so
``jsonschema`` validates against them as written. Each validator's root schema embeds the
document's ``components``, which makes its ``#/components/schemas/...`` references resolve.

Operations are looked up by method and concrete path, so the tests check a body against
the schema the document assigns to that request or answer, not one picked by hand.

Two defects of the document are corrected before validating (see ``UNTAGGED_UNIONS`` and
``PLAIN_EMBEDDING_INPUT``); the tests of this helper prove they are still there, so each
correction goes once it is fixed.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

__all__ = [
    "DOCUMENT_PATH",
    "ERROR_SCHEMA",
    "PLAIN_EMBEDDING_INPUT",
    "UNTAGGED_UNIONS",
    "assert_fits",
    "component",
    "document",
    "operation",
    "request_schema",
    "response_schema",
    "schema_validator",
]

DOCUMENT_PATH = Path(__file__).parent / "data" / "xai-openapi.json"

#: The document describes no error body (its 4xx responses have no content): this is xAI's
#: flat error shape as SPEC.md §4b records it from real traffic (``code`` may be a number).
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "error"],
    "properties": {"code": {"type": ["string", "integer"]}, "error": {"type": "string"}},
}


#: Unions of Responses API items whose branches are told apart by nothing: each branch's
#: ``type`` is any string, so an item can fit several (a ``function_call`` with an ``id``
#: is both a ``FunctionToolCall`` and a ``CustomToolCall``; a ``reasoning`` item with
#: ``encrypted_content`` sent back is both a ``Reasoning`` and a ``CompactionOutputItem``)
#: and ``oneOf`` fails it. The server, whose types the document was generated from, takes
#: the first branch that fits: ``anyOf``, which the validators use for these two.
UNTAGGED_UNIONS = ("ModelOutput", "ModelInputPart")

#: ``EmbeddingInput`` as the API takes it: plain JSON (SPEC.md §12). The document has the
#: server's enum as serde tags it by default (``{"String": "..."}``,
#: ``{"StringArray": [...]}``), a form the API refuses; the validators use this instead.
PLAIN_EMBEDDING_INPUT: dict[str, Any] = {
    "oneOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}},
        {"type": "array", "items": {"type": "integer"}},
        {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
    ]
}


@functools.cache
def document() -> dict[str, Any]:
    """The parsed document, exactly as vendored."""
    loaded: dict[str, Any] = json.loads(DOCUMENT_PATH.read_text("utf-8"))
    return loaded


@functools.cache
def _components(*, corrected: bool) -> dict[str, Any]:
    components = json.loads(json.dumps(document()["components"]))  # a deep copy
    if corrected:
        for name in UNTAGGED_UNIONS:
            schema = components["schemas"][name]
            schema["anyOf"] = schema.pop("oneOf")
        components["schemas"]["EmbeddingInput"] = PLAIN_EMBEDDING_INPUT
    return dict(components)


@functools.cache
def _validator(schema_json: str) -> Draft202012Validator:
    schema = json.loads(schema_json)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def schema_validator(schema: Mapping[str, Any], *, corrected: bool = True) -> Draft202012Validator:
    """A validator for *schema*, whose ``#/components/schemas/...`` references name the
    document's schemas (with ``UNTAGGED_UNIONS`` corrected unless ``corrected=False``)."""
    # Keyed by the schema's JSON: the document's schemas are reused by many tests.
    rooted = {**schema, "components": _components(corrected=corrected)}
    return _validator(json.dumps(rooted, sort_keys=True))


def component(name: str, *, corrected: bool = True) -> Draft202012Validator:
    """A validator for ``#/components/schemas/<name>`` (for what no operation names, such
    as a streamed chunk)."""
    if name not in document()["components"]["schemas"]:
        raise KeyError(f"the document has no component schema {name!r}")
    return schema_validator({"$ref": f"#/components/schemas/{name}"}, corrected=corrected)


def _matches(template: str, path: str) -> bool:
    wanted, given = template.strip("/").split("/"), path.strip("/").split("/")
    if len(wanted) != len(given):
        return False
    return all(
        w == g or (w.startswith("{") and w.endswith("}") and bool(g))
        for w, g in zip(wanted, given, strict=True)
    )


def operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The path template and operation object serving ``method path`` (a concrete path
    such as ``/v1/models/grok-4``); a literal segment beats a ``{parameter}``.

    Raises:
        LookupError: the document has no such operation.
    """
    candidates = [
        (template, operations[method.lower()])
        for template, operations in document()["paths"].items()
        if method.lower() in operations and _matches(template, path)
    ]
    if not candidates:
        raise LookupError(f"the OpenAPI document has no operation {method.upper()} {path}")
    return min(candidates, key=lambda candidate: candidate[0].count("{"))


def request_schema(method: str, path: str) -> Draft202012Validator | None:
    """A validator for the JSON request body of ``method path``; None when the operation
    takes no body."""
    _, op = operation(method, path)
    content = op.get("requestBody", {}).get("content", {})
    if not content:
        return None
    return schema_validator(content["application/json"]["schema"])


def response_schema(method: str, path: str, status: int = 200) -> Draft202012Validator | None:
    """A validator for the JSON answer of ``method path`` with ``status``; None when the
    document describes no body for it."""
    _, op = operation(method, path)
    content = op.get("responses", {}).get(str(status), {}).get("content", {})
    if "application/json" not in content:
        return None
    return schema_validator(content["application/json"]["schema"])


def assert_fits(instance: Any, validator: Draft202012Validator, what: str) -> None:
    """Fail with the most relevant error (and where it is) unless ``instance`` is valid."""
    error = best_match(validator.iter_errors(instance))
    if error is not None:
        raise AssertionError(
            f"{what} does not fit the OpenAPI document at {error.json_path}: {error.message}"
        )
