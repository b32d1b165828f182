"""The vendored OpenAPI document and the helper that validates against it (``tests/openapi.py``):
what the wire tests rely on holds, and the defect the helper corrects is still there."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest

from .openapi import (
    DOCUMENT_PATH,
    PLAIN_EMBEDDING_INPUT,
    UNTAGGED_UNIONS,
    assert_fits,
    component,
    document,
    operation,
    request_schema,
    response_schema,
)

FUNCTION_CALL_WITH_ID = {
    "type": "function_call",
    "id": "fc_1",
    "call_id": "call_1",
    "name": "get_weather",
    "arguments": "{}",
    "status": "completed",
}
REASONING_SENT_BACK = {
    "type": "reasoning",
    "id": "rs_1",
    "summary": [{"type": "summary_text", "text": "Thinking."}],
    "encrypted_content": "b3BhcXVl",
}


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node).union(*(_keys(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_keys(value) for value in node))
    return set()


def test_the_copy_is_the_one_its_readme_names() -> None:
    """The vendored file has the SHA-256 its README records, so it cannot change unnoticed."""
    readme = (DOCUMENT_PATH.parent / "README.md").read_text("utf-8")
    recorded = re.search(r"SHA-256: `([0-9a-f]{64})`", readme)
    assert recorded is not None
    assert hashlib.sha256(DOCUMENT_PATH.read_bytes()).hexdigest() == recorded.group(1)


def test_the_document_is_json_schema_2020_12_as_written() -> None:
    """OpenAPI 3.1 without 3.0's ``nullable`` (nulls are ``"type": [..., "null"]``): its
    schemas mean what JSON Schema 2020-12 says, with no translation."""
    assert document()["openapi"].startswith("3.1")
    assert "nullable" not in _keys(document()["components"])


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        pytest.param("GET", "/v1/models", "/v1/models", id="literal"),
        pytest.param("GET", "/v1/models/grok-4", "/v1/models/{model_id}", id="parameter"),
        pytest.param("POST", "/v1/videos/edits", "/v1/videos/edits", id="literal-beats-parameter"),
        pytest.param("GET", "/v1/videos/abc", "/v1/videos/{request_id}", id="same-depth"),
    ],
)
def test_operations_are_found_by_concrete_path(method: str, path: str, template: str) -> None:
    """A concrete path finds its template; a literal segment wins over a ``{parameter}``."""
    assert operation(method, path)[0] == template


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", "/v1/chat/completions", id="wrong-method"),
        pytest.param("GET", "/v1/models/a/b", id="too-deep"),
        pytest.param("GET", "/v1/fake-images/x.png", id="emulator-only"),
    ],
)
def test_an_undocumented_operation_is_refused(method: str, path: str) -> None:
    """What the document does not describe raises, so a wire test cannot pass it unchecked."""
    with pytest.raises(LookupError, match="no operation"):
        operation(method, path)


def test_validators_catch_what_the_document_forbids() -> None:
    """The validators are not vacuous: a wrong type, a missing required field and a
    ``$ref``'d schema's rule each fail, naming where."""
    chat = request_schema("POST", "/v1/chat/completions")
    models = response_schema("GET", "/v1/models")
    assert chat is not None
    assert models is not None
    with pytest.raises(AssertionError, match=r"\$\.stop"):
        assert_fits({"model": "m", "messages": [], "stop": "x"}, chat, "body")
    with pytest.raises(AssertionError, match="'object' is a required property"):
        assert_fits({"data": []}, models, "answer")
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    body = {"id": "1", "object": "x", "created": 1, "model": "m", "choices": [], "usage": usage}
    with pytest.raises(AssertionError, match=r"\$\.usage"):
        assert_fits(body, component("ChatResponse"), "answer")
    assert request_schema("GET", "/v1/models") is None
    assert response_schema("GET", "/v1/chat/deferred-completion/x", 202) is None


@pytest.mark.parametrize(
    ("item", "schema"),
    [
        pytest.param(FUNCTION_CALL_WITH_ID, "ModelOutput", id="function-call-output"),
        pytest.param(FUNCTION_CALL_WITH_ID, "ModelInputPart", id="function-call-input"),
        pytest.param(REASONING_SENT_BACK, "ModelInputPart", id="reasoning-input"),
    ],
)
def test_the_corrected_unions_are_still_ambiguous_in_the_document(
    item: dict[str, Any], schema: str
) -> None:
    """The document's own ``oneOf`` refuses an ordinary item because it fits two branches;
    the corrected validator (``anyOf``, as the server reads it) accepts it. When the
    document is fixed the first check fails, and ``UNTAGGED_UNIONS`` can go."""
    assert set(UNTAGGED_UNIONS) == {"ModelOutput", "ModelInputPart"}
    errors = list(component(schema, corrected=False).iter_errors(item))
    assert errors
    assert any("is valid under each of" in json.dumps(_messages(error)) for error in errors)
    assert_fits(item, component(schema), schema)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("a text", id="string"),
        pytest.param(["a", "b"], id="strings"),
        pytest.param([1, 2], id="token-ids"),
        pytest.param([[1, 2], [3]], id="token-id-lists"),
    ],
)
def test_the_document_still_tags_embedding_input(value: Any) -> None:
    """The document's ``EmbeddingInput`` refuses plain JSON (it wants ``{"String": ...}``);
    the corrected validator takes it, and refuses the tagged form the API refuses. When
    the document is fixed the first check fails, and ``PLAIN_EMBEDDING_INPUT`` can go."""
    assert list(component("EmbeddingInput", corrected=False).iter_errors(value))
    assert component("EmbeddingInput").is_valid(value)
    assert not component("EmbeddingInput").is_valid({"String": "a text"})
    assert PLAIN_EMBEDDING_INPUT["oneOf"]


def _messages(error: Any) -> list[str]:
    """An error's message and those of the branches under it."""
    return [error.message, *(m for sub in error.context or () for m in _messages(sub))]
