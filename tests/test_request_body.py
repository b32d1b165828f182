"""The one body builder of chat completions and the Responses API (``_request_body``)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from grok_async._request_body import CHAT_BODY, RESPONSES_BODY, BodyRules

BOTH = [
    pytest.param(CHAT_BODY, {"model": "m", "messages": []}, id="chat"),
    pytest.param(RESPONSES_BODY, {"model": "m", "input": "Hi"}, id="responses"),
]


@pytest.mark.parametrize(("rules", "required"), BOTH)
def test_unknown_keywords_are_named_sorted_and_nothing_is_built(
    rules: BodyRules, required: dict[str, Any]
) -> None:
    """Every unknown keyword is named, in order, with the pointer to extra_body, before
    the body is touched."""
    body = dict(required)
    with pytest.raises(TypeError) as caught:
        rules.build(body, None, {"temprature": 1, "colour": "red", "user": "u"}, None)
    assert str(caught.value) == (
        "create() got unexpected keyword arguments: colour, temprature "
        "(send parameters this library does not know yet with extra_body=)"
    )
    assert body == required


@pytest.mark.parametrize(("rules", "required"), BOTH)
def test_none_is_left_out_and_extra_body_goes_last_unshaped(
    rules: BodyRules, required: dict[str, Any]
) -> None:
    """A parameter at None is not sent; extra_body overrides a given one and is sent as
    given (its tools are not reshaped)."""
    chat_tool = {"type": "function", "function": {"name": "f"}}
    sent = orjson.loads(
        rules.build(
            dict(required),
            True,
            {"user": None, "temperature": 0.5, "tools": [chat_tool]},
            {"temperature": 0.0, "tools": [chat_tool]},
        )
    )
    assert sent == {**required, "stream": True, "temperature": 0.0, "tools": [chat_tool]}
