"""The converter: the fast structuring path agrees with cattrs on every input."""

from __future__ import annotations

import enum
from typing import Any

import pytest
from cattrs.errors import StructureHandlerNotFoundError
from hypothesis import given, settings
from hypothesis import strategies as st

from grok_async import ChatCompletion, ChatCompletionChunk, GrokError
from grok_async._serialization import NotAllowedValueError, decode_model, make_converter

FAST = make_converter()
SLOW = make_converter(fast=False)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field that is usually well-typed, sometimes missing-typed junk."""
    return st.one_of(strategy, strategy, strategy, json_values)


deltas = st.fixed_dictionaries(
    {},
    optional={
        "role": maybe(st.just("assistant")),
        "content": maybe(st.text(max_size=8)),
        "reasoning_content": maybe(st.text(max_size=8)),
        "tool_calls": maybe(
            st.lists(
                st.fixed_dictionaries(
                    {"index": maybe(st.integers(0, 3))},
                    optional={
                        "id": maybe(st.text(max_size=4)),
                        "function": maybe(
                            st.fixed_dictionaries(
                                {},
                                optional={
                                    "name": maybe(st.text(max_size=4)),
                                    "arguments": maybe(st.text(max_size=4)),
                                },
                            )
                        ),
                    },
                ),
                max_size=2,
            )
        ),
    },
)
usages = st.fixed_dictionaries(
    {},
    optional={
        "prompt_tokens": maybe(st.integers(0, 99)),
        "completion_tokens": maybe(st.integers(0, 99)),
        "total_tokens": maybe(st.integers(0, 99)),
        "completion_tokens_details": maybe(
            st.fixed_dictionaries({}, optional={"reasoning_tokens": maybe(st.integers(0, 9))})
        ),
    },
)
chunks = st.fixed_dictionaries(
    {},
    optional={
        "id": maybe(st.text(max_size=6)),
        "created": maybe(st.integers(0, 2**40)),
        "model": maybe(st.text(max_size=6)),
        "choices": maybe(
            st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "index": maybe(st.integers(0, 3)),
                        "delta": maybe(deltas),
                        "finish_reason": maybe(st.sampled_from(["stop", "", "length"])),
                    },
                ),
                max_size=2,
            )
        ),
        "usage": maybe(usages),
        "citations": maybe(st.lists(st.text(max_size=5), max_size=2)),
    },
)


def outcome(converter: Any, data: Any, cls: type[Any]) -> Any:
    try:
        obj = converter.structure(data, cls)
    except Exception as exc:  # the comparison is the point: both must fail alike
        return ("error", type(exc).__name__)
    return ("ok", obj, obj.to_dict())


@settings(max_examples=400, deadline=None)
@given(chunks)
def test_fast_path_agrees_with_cattrs_on_chunks(data: dict[str, Any]) -> None:
    """Any chunk-shaped input gives the same object (or the same error) on both paths."""
    assert outcome(FAST, data, ChatCompletionChunk) == outcome(SLOW, data, ChatCompletionChunk)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {"id": maybe(st.text(max_size=6))},
        optional={
            "choices": maybe(
                st.lists(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "index": maybe(st.integers(0, 3)),
                            "message": maybe(deltas),
                            "finish_reason": maybe(st.sampled_from(["stop", ""])),
                        },
                    ),
                    max_size=2,
                )
            ),
            "usage": maybe(usages),
            "created": maybe(st.integers(0, 9)),
        },
    )
)
def test_fast_path_agrees_with_cattrs_on_completions(data: dict[str, Any]) -> None:
    """Any completion-shaped input gives the same object (or the same error) on both paths."""
    assert outcome(FAST, data, ChatCompletion) == outcome(SLOW, data, ChatCompletion)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"id": "x", "choices": [{"message": {"content": 5}}]}, id="int-content"),
        pytest.param(
            {"id": "x", "choices": [{"message": {"content": {"a": 1}}}]}, id="object-content"
        ),
        pytest.param({"id": "x", "choices": [], "created": "12"}, id="numeric-string"),
        pytest.param({"id": "x", "choices": [], "created": True}, id="bool-as-int"),
        pytest.param({"id": "x", "choices": [], "usage": {"total_tokens": 2.5}}, id="float-int"),
    ],
)
def test_values_of_the_wrong_type_are_refused(data: dict[str, Any]) -> None:
    """Nothing is coerced: a value of the wrong JSON type is a validation error on both
    paths (not str({...}) or int(True))."""
    for converter in (FAST, SLOW):
        with pytest.raises(GrokError, match="expected"):
            decode_model(data, ChatCompletion, using=converter)


def test_ints_are_welcome_where_floats_are_expected() -> None:
    """JSON has one number type: an int in a float field is taken as a float."""
    from grok_async._serialization import converter

    assert converter.structure(3, float) == 3.0


def test_errors_name_the_path() -> None:
    """A bad nested value fails with cattrs' message naming where it was."""
    with pytest.raises(GrokError, match="choices") as info:
        decode_model({"id": "x", "choices": [{"message": []}]}, ChatCompletion)
    assert "ChatCompletion" in str(info.value)


def test_nulls_in_defaulted_fields_read_as_not_given() -> None:
    """`null` where a field has a default but no None in its type takes the default (xAI
    omits and nulls fields alike), on both paths."""
    data = {
        "id": "x",
        "created": None,
        "model": None,
        "choices": [{"index": None, "message": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": None, "completion_tokens": 3, "total_tokens": 3},
    }
    for converter in (FAST, SLOW):
        completion = converter.structure(data, ChatCompletion)
        assert completion.created == 0
        assert completion.model == ""
        assert completion.choices[0].index == 0
        assert completion.choices[0].message.content is None
        assert completion.usage is not None and completion.usage.prompt_tokens == 0
        assert completion.raw is data  # the wire form is kept as received


def test_lists_are_copies_not_the_raw_json() -> None:
    """Editing a model's list never edits the JSON kept in .raw."""
    data = {"id": "x", "choices": [], "citations": ["https://a.test"]}
    completion = FAST.structure(data, ChatCompletion)
    assert completion.citations is not None
    completion.citations.append("https://b.test")
    assert data["citations"] == ["https://a.test"]


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Color(str, enum.Enum):
    RED = "red"


class Rank(enum.Enum):
    FIRST = 1


@pytest.mark.parametrize(
    ("data", "tp", "expected"),
    [
        pytest.param(2, Level, Level.HIGH, id="int-enum"),
        pytest.param("red", Color, Color.RED, id="str-enum"),
        pytest.param(1, Rank, Rank.FIRST, id="plain-enum"),
        pytest.param(2, Level | None, Level.HIGH, id="optional-int-enum"),
    ],
)
def test_enums_become_their_members(data: Any, tp: Any, expected: Any) -> None:
    """The int and str hooks also catch IntEnum and str-based enums (singledispatch matches
    subclasses): those too become members, not plain ints and strs."""
    for converter in (FAST, SLOW):
        result = converter.structure(data, tp)
        assert result is expected


@pytest.mark.parametrize(
    ("data", "tp"),
    [
        pytest.param(5, Level, id="int-enum-unknown"),
        pytest.param(True, Level, id="bool-for-int-enum"),
        pytest.param("zzz", Color, id="str-enum-unknown"),
        pytest.param(True, Rank, id="bool-for-plain-enum"),
        pytest.param(1.0, Rank, id="float-for-plain-enum"),
    ],
)
def test_enums_take_only_their_values(data: Any, tp: Any) -> None:
    """A value outside the enum, or of another JSON type, is refused naming the choices."""
    for converter in (FAST, SLOW):
        with pytest.raises(NotAllowedValueError, match=rf"expected {tp.__name__} \("):
            converter.structure(data, tp)


class Tag:
    def __init__(self, text: str) -> None:
        self.text = text


def test_a_copy_keeps_its_own_hooks_inside_optional_fields() -> None:
    """The X | None hook asks the converter it runs in for X's hook, so a copy with its own
    hook for X uses it inside optional fields too (and the original is unchanged)."""
    optional_tag: Any = Tag | None
    base = make_converter()
    copy = base.copy()
    copy.register_structure_hook(Tag, lambda value, _: Tag(f"copy:{value}"))
    tagged = copy.structure("x", optional_tag)
    assert isinstance(tagged, Tag) and tagged.text == "copy:x"
    assert copy.structure(None, optional_tag) is None
    with pytest.raises(StructureHandlerNotFoundError, match="Tag"):
        base.structure("x", optional_tag)
