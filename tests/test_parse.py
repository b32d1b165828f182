"""Structured outputs against the emulator: parse() and stream(response_format=...) send the
class's schema and structure the reply into it, strictly, with the raw text kept on errors."""

from __future__ import annotations

import enum
from typing import Any, Literal

import attrs
import orjson
import pytest

from grok_async import (
    APIResponseValidationError,
    AsyncGrok,
    ChatCompletion,
    ParsedChatCompletion,
    StructuredOutputError,
    json_schema,
)
from grok_async._parsing import structure_value
from grok_async._serialization import describe_structure_error
from grok_async.testing import FakeGrok, Reply, default_reply

from .conftest import FAKE_KEY

MESSAGES = [{"role": "user", "content": "Describe a city."}]


class Size(enum.Enum):
    SMALL = "small"
    LARGE = "large"


@attrs.define
class Address:
    street: str
    number: int | None


@attrs.define
class City:
    """A city and what matters about it."""

    name: str
    population: int
    size: Size
    climate: Literal["dry", "wet"]
    address: Address
    districts: list[str]
    rank: int = 7


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Color(str, enum.Enum):
    RED = "red"
    BLUE = "blue"


class Rank(enum.Enum):
    FIRST = 1
    SECOND = 2


@attrs.define
class Part:
    label: str
    weight: int = 1


@attrs.define
class Profile:
    """Optional classes and lists, an IntEnum, a str-based Enum and a numeric Literal."""

    level: Level
    color: Color
    main: Part | None
    parts: list[Part] | None
    tags: list[str] | None
    rating: Literal[1, 2, 3] | None = None


@attrs.define
class Node:
    value: int
    children: list[Node] = attrs.Factory(list)


@attrs.define
class Scores:
    by_name: dict[str, float]


@attrs.define
class Either:
    value: int | str


def client_for(fake: FakeGrok, **options: Any) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, base_url=fake.base_url, **options)


def city_json(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Oslo",
        "population": 700000,
        "size": "large",
        "climate": "wet",
        "address": {"street": "Karl Johans gate", "number": None},
        "districts": ["Frogner", "Grünerløkka"],
        "rank": None,
    }
    body.update(changes)
    return body


async def test_parse_sends_the_schema_and_parses_the_default_reply(fake_grok: FakeGrok) -> None:
    """Unscripted, the emulator answers JSON that fits the schema; parse() structures it."""
    async with client_for(fake_grok) as client:
        completion = await client.chat.completions.parse(
            model="grok-4", messages=MESSAGES, response_format=City
        )
    sent = fake_grok.last_request.json["response_format"]
    assert sent == {
        "type": "json_schema",
        "json_schema": {"name": "City", "schema": json_schema(City), "strict": True},
    }
    assert isinstance(completion, ParsedChatCompletion)
    assert isinstance(completion, ChatCompletion)
    message = completion.choices[0].message
    city = message.parsed
    assert isinstance(city, City)
    assert isinstance(city.address, Address)
    assert isinstance(city.size, Size)
    content = orjson.loads(message.content or "")
    assert city.name == content["name"]
    assert city.population == content["population"]
    assert city.districts == content["districts"]
    # The plain completion's fields survive the rebuild.
    assert completion.request_id
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    assert completion.raw["choices"][0]["message"]["content"] == message.content


async def test_a_scripted_reply_is_structured_exactly(fake_grok: FakeGrok) -> None:
    """Nested classes, enums, literals, an optional scalar and null-for-default land in place."""
    fake_grok.enqueue(Reply(orjson.dumps(city_json()).decode()))
    async with client_for(fake_grok) as client:
        completion = await client.chat.completions.parse(
            model="grok-4", messages=MESSAGES, response_format=City
        )
    assert completion.choices[0].message.parsed == City(
        name="Oslo",
        population=700000,
        size=Size.LARGE,
        climate="wet",
        address=Address("Karl Johans gate", None),
        districts=["Frogner", "Grünerløkka"],
        rank=7,
    )


def profile_json(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "level": 2,
        "color": "blue",
        "main": {"label": "engine", "weight": None},
        "parts": [{"label": "wheel", "weight": 4}, {"label": "seat", "weight": None}],
        "tags": ["fast"],
        "rating": 3,
    }
    body.update(changes)
    return body


async def test_optional_classes_lists_and_int_and_str_enums_land_in_place(
    fake_grok: FakeGrok,
) -> None:
    """Inside X | None the class rules hold (null means the default), and IntEnum and
    str-based enums become their members, not plain ints and strs."""
    fake_grok.enqueue(Reply(orjson.dumps(profile_json()).decode()))
    async with client_for(fake_grok) as client:
        completion = await client.chat.completions.parse(
            model="grok-4", messages=MESSAGES, response_format=Profile
        )
    profile = completion.choices[0].message.parsed
    assert profile == Profile(
        level=Level.HIGH,
        color=Color.BLUE,
        main=Part("engine", 1),
        parts=[Part("wheel", 4), Part("seat", 1)],
        tags=["fast"],
        rating=3,
    )
    assert profile is not None
    # Level.HIGH == 2 and Color.BLUE == "blue": only the types tell members from values.
    assert type(profile.level) is Level
    assert type(profile.color) is Color
    assert type(profile.rating) is int


async def test_optional_fields_may_be_null(fake_grok: FakeGrok) -> None:
    """null in an X | None field is None, whatever X is."""
    nulls = profile_json(main=None, parts=None, tags=None, rating=None)
    fake_grok.enqueue(Reply(orjson.dumps(nulls).decode()))
    async with client_for(fake_grok) as client:
        completion = await client.chat.completions.parse(
            model="grok-4", messages=MESSAGES, response_format=Profile
        )
    assert completion.choices[0].message.parsed == Profile(Level.HIGH, Color.BLUE, None, None, None)


async def test_the_default_reply_for_optional_lists_of_classes_parses(fake_grok: FakeGrok) -> None:
    """The emulator fills nullable defaults with null, inside Optional[list[Part]] too."""
    async with client_for(fake_grok) as client:
        completion = await client.chat.completions.parse(
            model="grok-4", messages=MESSAGES, response_format=Profile
        )
    message = completion.choices[0].message
    content = orjson.loads(message.content or "")
    assert None in [part["weight"] for part in content["parts"]]  # the case this covers
    profile = message.parsed
    assert isinstance(profile, Profile)
    assert profile.parts is not None
    assert profile.parts == [
        Part(part["label"], 1 if part["weight"] is None else part["weight"])
        for part in content["parts"]
    ]
    assert type(profile.level) is Level
    assert type(profile.color) is Color


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"tags": "abc"}, r"\$\.tags$", id="str-for-optional-list"),
        pytest.param(
            {"main": {"label": "x", "extra": 1}},
            r"extra fields found \(extra\) @ \$\.main",
            id="optional-class-extra-key",
        ),
        pytest.param(
            {"parts": [{"label": "x", "size": 1}]},
            r"extra fields found \(size\) @ \$\.parts\[0\]",
            id="optional-list-item-extra-key",
        ),
        pytest.param({"main": {"label": 5}}, r"\$\.main\.label", id="optional-class-bad-field"),
        pytest.param(
            {"level": 5}, r"expected Level \(1 or 2\), got int: 5 @ \$\.level", id="int-enum"
        ),
        pytest.param({"level": True}, r"got bool: True @ \$\.level", id="bool-for-int-enum"),
        pytest.param({"level": 2.0}, r"got float: 2\.0 @ \$\.level", id="float-for-int-enum"),
        pytest.param(
            {"color": "green"},
            r"expected Color \('red' or 'blue'\), got str: 'green' @ \$\.color",
            id="str-enum",
        ),
        pytest.param(
            {"rating": True},
            r"expected 1, 2 or 3, got bool: True @ \$\.rating",
            id="bool-for-literal",
        ),
        pytest.param({"rating": 1.0}, r"got float: 1\.0 @ \$\.rating", id="float-for-literal"),
        pytest.param({"rating": 4}, r"got int: 4 @ \$\.rating", id="not-in-literal"),
    ],
)
async def test_optional_fields_enums_and_literals_are_strict(
    fake_grok: FakeGrok, changes: dict[str, Any], expected: str
) -> None:
    """X | None is as strict as X; enums and literals take only their values, of their
    JSON type (true is not 1, 1.0 is not 1); errors name the allowed values."""
    text = orjson.dumps(profile_json(**changes)).decode()
    fake_grok.enqueue(Reply(text))
    async with client_for(fake_grok) as client:
        with pytest.raises(StructuredOutputError, match=expected) as caught:
            await client.chat.completions.parse(
                model="grok-4", messages=MESSAGES, response_format=Profile
            )
    assert caught.value.content == text


async def test_invalid_json_raises_with_the_raw_text(fake_grok: FakeGrok) -> None:
    """A reply that is not JSON raises StructuredOutputError carrying the text and completion."""
    text = '{"name": "Oslo", "population": '
    fake_grok.enqueue(Reply(text))
    async with client_for(fake_grok) as client:
        with pytest.raises(StructuredOutputError) as caught:
            await client.chat.completions.parse(
                model="grok-4", messages=MESSAGES, response_format=City
            )
    error = caught.value
    assert isinstance(error, APIResponseValidationError)
    assert "not valid JSON" in str(error)
    assert error.content == text
    assert error.body == text
    assert error.response_format is City
    assert error.completion is not None
    assert error.completion.choices[0].message.content == text
    assert error.request_id == error.completion.request_id is not None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"population": "700000"}, r"expected int @ \$\.population", id="str-for-int"),
        pytest.param({"population": 1.5}, r"\$\.population", id="float-for-int"),
        pytest.param({"size": "huge"}, r"\$\.size", id="bad-enum"),
        pytest.param({"climate": "cold"}, r"\$\.climate", id="bad-literal"),
        pytest.param({"districts": "Frogner"}, r"\$\.districts", id="str-for-list"),
        pytest.param({"districts": ["a", 2]}, r"\$\.districts\[1\]", id="bad-item"),
        pytest.param({"address": {"street": 1, "number": 2}}, r"\$\.address\.street", id="nested"),
        pytest.param({"extra": True}, "extra", id="unknown-key"),
        pytest.param({"name": None}, r"\$\.name", id="null-without-default"),
    ],
)
async def test_json_that_does_not_fit_raises_naming_the_place(
    fake_grok: FakeGrok, changes: dict[str, Any], expected: str
) -> None:
    """Valid JSON of the wrong shape raises StructuredOutputError saying where, text attached."""
    text = orjson.dumps(city_json(**changes)).decode()
    fake_grok.enqueue(Reply(text))
    async with client_for(fake_grok) as client:
        with pytest.raises(StructuredOutputError, match=expected) as caught:
            await client.chat.completions.parse(
                model="grok-4", messages=MESSAGES, response_format=City
            )
    assert caught.value.content == text
    assert "does not fit City" in str(caught.value)


async def test_a_missing_key_raises(fake_grok: FakeGrok) -> None:
    """A required field the reply left out is an error, not a silent default."""
    body = city_json()
    del body["population"]
    fake_grok.enqueue(Reply(orjson.dumps(body).decode()))
    async with client_for(fake_grok) as client:
        with pytest.raises(StructuredOutputError, match="population"):
            await client.chat.completions.parse(
                model="grok-4", messages=MESSAGES, response_format=City
            )


async def test_a_refusal_parses_to_none(fake_grok: FakeGrok) -> None:
    """A refusal is no error: parsed is None and the refusal text is on the message."""
    fake_grok.enqueue(Reply(refusal="I can't help with that."))
    async with client_for(fake_grok) as client:
        completion = await client.chat.completions.parse(
            model="grok-4", messages=MESSAGES, response_format=City
        )
    message = completion.choices[0].message
    assert message.parsed is None
    assert message.refusal == "I can't help with that."
    assert message.content is None


async def test_an_empty_refusal_is_no_refusal(fake_grok: FakeGrok) -> None:
    """refusal "" next to the content (some servers send it): the content is parsed."""
    fake_grok.enqueue(Reply(orjson.dumps(city_json()).decode(), refusal=""))
    async with client_for(fake_grok) as client:
        completion = await client.chat.completions.parse(
            model="grok-4", messages=MESSAGES, response_format=City
        )
    message = completion.choices[0].message
    assert message.refusal == ""
    assert isinstance(message.parsed, City)
    assert message.parsed.name == "Oslo"


async def test_tool_calls_instead_of_an_answer_parse_to_none(fake_grok: FakeGrok) -> None:
    """A reply that calls tools has no content to parse."""
    fake_grok.enqueue(Reply(tool_calls=[{"name": "lookup", "arguments": {"q": "Oslo"}}]))
    async with client_for(fake_grok) as client:
        completion = await client.chat.completions.parse(
            model="grok-4",
            messages=MESSAGES,
            response_format=City,
            tools=[{"type": "function", "function": {"name": "lookup"}}],
        )
    choice = completion.choices[0]
    assert choice.message.parsed is None
    assert choice.message.tool_calls is not None
    assert choice.message.tool_calls[0].function.name == "lookup"


async def test_a_reply_cut_off_at_the_token_limit_raises(fake_grok: FakeGrok) -> None:
    """finish_reason "length" raises StructuredOutputError saying the reply was cut off."""
    async with client_for(fake_grok) as client:
        with pytest.raises(StructuredOutputError, match="token limit") as caught:
            await client.chat.completions.parse(
                model="grok-4", messages=MESSAGES, response_format=City, max_tokens=5
            )
    assert caught.value.completion is not None
    assert caught.value.completion.choices[0].finish_reason == "length"
    assert caught.value.content


async def test_every_choice_is_parsed(fake_grok: FakeGrok) -> None:
    """With n > 1 each choice carries its own parsed value."""
    async with client_for(fake_grok) as client:
        completion = await client.chat.completions.parse(
            model="grok-4", messages=MESSAGES, response_format=City, n=2
        )
    assert len(completion.choices) == 2
    parsed = [choice.message.parsed for choice in completion.choices]
    assert all(isinstance(city, City) for city in parsed)
    assert parsed[0] != parsed[1]  # the emulator varies choices


async def test_a_recursive_class_round_trips_through_the_emulator(fake_grok: FakeGrok) -> None:
    """A self-referencing class gets a finite reply that parses into nested instances."""
    async with client_for(fake_grok) as client:
        completion = await client.chat.completions.parse(
            model="grok-4", messages=MESSAGES, response_format=Node
        )
    root = completion.choices[0].message.parsed
    assert isinstance(root, Node)
    assert root.children and all(isinstance(child, Node) for child in root.children)


async def test_a_class_with_a_free_form_map_is_sent_without_strict(fake_grok: FakeGrok) -> None:
    """Strict mode cannot express dict[str, X]: such a schema is sent with strict false."""
    async with client_for(fake_grok) as client:
        completion = await client.chat.completions.parse(
            model="grok-4", messages=MESSAGES, response_format=Scores
        )
    assert fake_grok.last_request.json["response_format"]["json_schema"]["strict"] is False
    scores = completion.choices[0].message.parsed
    assert isinstance(scores, Scores)
    assert scores.by_name and all(isinstance(v, float) for v in scores.by_name.values())


async def test_streamed_final_completion_is_parsed(fake_grok: FakeGrok) -> None:
    """stream(..., response_format=cls) parses the assembled reply like parse() does."""
    async with client_for(fake_grok) as client:
        plain = await client.chat.completions.parse(
            model="grok-4", messages=MESSAGES, response_format=City
        )
        async with client.chat.completions.stream(
            model="grok-4", messages=MESSAGES, response_format=City
        ) as stream:
            pieces = [text async for text in stream.text()]
            final = await stream.get_final_completion()
    assert fake_grok.last_request.json["stream"] is True
    assert fake_grok.last_request.json["response_format"]["type"] == "json_schema"
    assert len(pieces) > 1  # the JSON really streamed in pieces
    assert isinstance(final, ParsedChatCompletion)
    assert final.choices[0].message.content == "".join(pieces)
    assert final.choices[0].message.parsed == plain.choices[0].message.parsed
    assert final.request_id == stream.request_id


async def test_streamed_reply_that_does_not_fit_raises_at_the_end(fake_grok: FakeGrok) -> None:
    """A streamed reply of the wrong shape raises StructuredOutputError from the final step."""
    text = orjson.dumps(city_json(population="many")).decode()
    fake_grok.enqueue(Reply(text))
    async with (
        client_for(fake_grok) as client,
        client.chat.completions.stream(
            model="grok-4", messages=MESSAGES, response_format=City
        ) as stream,
    ):
        with pytest.raises(StructuredOutputError, match="population") as caught:
            await stream.get_final_completion()
    assert caught.value.content == text


async def test_a_plain_stream_is_not_parsed(fake_grok: FakeGrok) -> None:
    """Without a class the stream's final completion stays a plain ChatCompletion."""
    async with (
        client_for(fake_grok) as client,
        client.chat.completions.stream(model="grok-4", messages=MESSAGES) as stream,
    ):
        final = await stream.get_final_completion()
    assert type(final) is ChatCompletion


async def test_create_with_a_class_as_response_format_points_to_parse(fake_grok: FakeGrok) -> None:
    """create() cannot parse: a class there is a TypeError naming parse(); nothing is sent."""
    async with client_for(fake_grok) as client:
        with pytest.raises(TypeError, match=r"City, use parse\(\) or stream\(response_format="):
            await client.chat.completions.create(
                model="grok-4", messages=MESSAGES, response_format=City
            )
    assert fake_grok.stats.requests == 0


async def test_create_still_passes_a_dict_response_format_through(fake_grok: FakeGrok) -> None:
    """A plain dict response_format goes to the wire untouched; json_object gets an object."""
    response_format = {"type": "json_object"}
    async with client_for(fake_grok) as client:
        completion = await client.chat.completions.create(
            model="grok-4", messages=MESSAGES, response_format=response_format
        )
    assert fake_grok.last_request.json["response_format"] == response_format
    assert isinstance(orjson.loads(completion.choices[0].message.content or ""), dict)


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        pytest.param({"response_format": dict}, "attrs class", id="not-attrs"),
        pytest.param({"response_format": City, "stream": True}, "stream", id="stream"),
        pytest.param({"response_format": City, "deferred": True}, "deferred", id="deferred"),
    ],
)
async def test_parse_rejects_what_it_cannot_parse_before_sending(
    fake_grok: FakeGrok, arguments: dict[str, Any], error: str
) -> None:
    """Bad arguments raise TypeError and nothing is sent."""
    async with client_for(fake_grok) as client:
        with pytest.raises(TypeError, match=error):
            await client.chat.completions.parse(model="grok-4", messages=MESSAGES, **arguments)
    assert fake_grok.stats.requests == 0


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param({"value": 3}, Either(3), id="first-member"),
        pytest.param({"value": "3"}, Either("3"), id="second-member"),
    ],
)
def test_unions_take_the_first_member_that_fits(data: Any, expected: Either) -> None:
    """int | str: a JSON number is an int, a JSON string a str (no coercion either way)."""
    assert structure_value(data, Either) == expected


def test_a_union_that_nothing_fits_names_its_members() -> None:
    """A value no member takes is an error listing the members."""
    with pytest.raises(Exception) as caught:  # noqa: PT011 - cattrs' own error type
        structure_value({"value": [1]}, Either)
    assert "expected int | str @ $.value" in describe_structure_error(caught.value)


@pytest.mark.parametrize(
    ("data", "tp", "expected"),
    [
        pytest.param(1, Literal[1, 2], 1, id="int"),
        pytest.param(True, Literal[True, 1], True, id="bool-not-int"),
        pytest.param(1, Literal[True, 1], 1, id="int-not-bool"),
        pytest.param("red", Literal[Color.RED, "x"], Color.RED, id="enum-member"),
        pytest.param(None, Literal["a", None], None, id="none"),
    ],
)
def test_a_literal_takes_the_value_of_its_json_type(data: Any, tp: Any, expected: Any) -> None:
    """The literal's own value is returned: the JSON type decides between True and 1."""
    result = structure_value(data, tp)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("data", "tp"),
    [
        pytest.param(True, Literal[1, 2], id="bool-for-int"),
        pytest.param(1.0, Literal[1, 2], id="float-for-int"),
        pytest.param(1, Literal["1"], id="int-for-str"),
        pytest.param("blue", Literal[Color.RED], id="other-enum-value"),
        pytest.param(True, Level, id="bool-for-int-enum"),
        pytest.param(1, Color, id="int-for-str-enum"),
        pytest.param(True, Rank, id="bool-for-plain-enum"),
        pytest.param(1.0, Rank, id="float-for-plain-enum"),
    ],
)
def test_enums_and_literals_reject_values_of_another_json_type(data: Any, tp: Any) -> None:
    """== alone would let true pass for 1; the hooks compare JSON types first."""
    with pytest.raises(ValueError, match="expected"):
        structure_value(data, tp)


def test_the_emulator_reply_is_deterministic_and_fits_the_schema() -> None:
    """The same request gets the same JSON; a different one different JSON; both fit."""
    request = {
        "model": "grok-4",
        "messages": MESSAGES,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "City", "schema": json_schema(City), "strict": True},
        },
    }
    other = {**request, "messages": [{"role": "user", "content": "Another city."}]}
    first = default_reply(request)[0].content
    assert first == default_reply(request)[0].content
    assert first != default_reply(other)[0].content
    for content in (first, default_reply(other)[0].content):
        assert isinstance(structure_value(orjson.loads(content), City), City)
