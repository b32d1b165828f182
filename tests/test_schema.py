"""JSON schemas from attrs classes: every supported annotation, strict mode, descriptions,
recursion, and a clear error for what has no schema."""

from __future__ import annotations

import collections.abc
import datetime
import enum
from typing import Annotated, Any, Literal, Optional, Union

import attrs
import pytest

from grok_async import json_schema
from grok_async._schema import SchemaBuilder, docstring_parts

NULL = {"type": "null"}


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@attrs.define
class Point:
    x: int
    y: int


@attrs.define
class Node:
    """A tree node."""

    value: int
    children: list[Node]


@attrs.define
class Forest:
    trees: list[Node]
    biggest: Node | None


@attrs.define
class Person:
    """Someone the model describes.

    It has two paragraphs.

    Attributes:
        name: The full name,
            as written.
        age (int): Age in years.
        nickname: Overridden by metadata.
    """

    name: str
    age: int
    nickname: str = attrs.field(default="", metadata={"description": "What friends say."})


@attrs.define
class WithDefaults:
    count: int = 0
    label: str | None = None
    tags: list[str] = attrs.Factory(list)
    color: Color = Color.RED


@attrs.define
class Hidden:
    shown: int
    cache: int = attrs.field(init=False, default=0)


@attrs.define
class HasAny:
    payload: Any


@attrs.define
class HasDatetime:
    when: datetime.datetime


@attrs.define
class HasIntKeys:
    scores: dict[int, str]


@attrs.define
class HasBareList:
    items: list  # type: ignore[type-arg]


def property_of(tp: Any) -> dict[str, Any]:
    """The schema the builder gives one annotation (non-strict: no nullable wrapping)."""
    return SchemaBuilder(strict=False).type_schema(tp, "T.field")


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        pytest.param(str, {"type": "string"}, id="str"),
        pytest.param(int, {"type": "integer"}, id="int"),
        pytest.param(float, {"type": "number"}, id="float"),
        pytest.param(bool, {"type": "boolean"}, id="bool"),
        pytest.param(type(None), NULL, id="none"),
        pytest.param(list[int], {"type": "array", "items": {"type": "integer"}}, id="list"),
        pytest.param(
            collections.abc.Sequence[str],
            {"type": "array", "items": {"type": "string"}},
            id="sequence",
        ),
        pytest.param(tuple[int, ...], {"type": "array", "items": {"type": "integer"}}, id="tuple"),
        pytest.param(set[str], {"type": "array", "items": {"type": "string"}}, id="set"),
        pytest.param(frozenset[int], {"type": "array", "items": {"type": "integer"}}, id="frozen"),
        pytest.param(
            list[list[bool]],
            {"type": "array", "items": {"type": "array", "items": {"type": "boolean"}}},
            id="nested-list",
        ),
        pytest.param(
            dict[str, float],
            {"type": "object", "additionalProperties": {"type": "number"}},
            id="dict",
        ),
        pytest.param(
            collections.abc.Mapping[str, list[int]],
            {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "integer"}},
            },
            id="mapping",
        ),
        pytest.param(int | None, {"anyOf": [{"type": "integer"}, NULL]}, id="pipe-none"),
        pytest.param(Optional[str], {"anyOf": [{"type": "string"}, NULL]}, id="optional"),  # noqa: UP045
        pytest.param(
            Union[int, str],  # noqa: UP007
            {"anyOf": [{"type": "integer"}, {"type": "string"}]},
            id="union",
        ),
        pytest.param(
            int | str | None,
            {"anyOf": [{"type": "integer"}, {"type": "string"}, NULL]},
            id="union-none",
        ),
        pytest.param(Literal["a", "b"], {"type": "string", "enum": ["a", "b"]}, id="literal-str"),
        pytest.param(Literal[1, 2], {"type": "integer", "enum": [1, 2]}, id="literal-int"),
        pytest.param(
            Literal["a", None],
            {"type": ["string", "null"], "enum": ["a", None]},
            id="literal-none",
        ),
        pytest.param(Color, {"type": "string", "enum": ["red", "blue"]}, id="enum"),
        pytest.param(Level, {"type": "integer", "enum": [1, 2]}, id="int-enum"),
        pytest.param(
            Literal[Level.HIGH, "x"],
            {"type": ["integer", "string"], "enum": [2, "x"]},
            id="literal-enum-member",
        ),
        pytest.param(
            Annotated[str, "The city."],
            {"description": "The city.", "type": "string"},
            id="annotated",
        ),
        pytest.param(
            Point,
            {
                "type": "object",
                "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
                "required": ["x", "y"],
                "additionalProperties": False,
            },
            id="attrs-class",
        ),
        pytest.param(
            tuple[int, str],
            {
                "type": "array",
                "prefixItems": [{"type": "integer"}, {"type": "string"}],
                "items": False,
                "minItems": 2,
                "maxItems": 2,
            },
            id="fixed-tuple",
        ),
    ],
)
def test_each_annotation_has_its_schema(annotation: Any, expected: dict[str, Any]) -> None:
    """Every supported annotation maps to the JSON schema the module docstring promises."""
    assert property_of(annotation) == expected


def test_a_class_is_a_closed_object_with_every_property_required() -> None:
    """Strict schemas list every property as required and forbid others."""
    schema = json_schema(Point)
    assert schema["type"] == "object"
    assert schema["required"] == ["x", "y"]
    assert schema["additionalProperties"] is False


def test_strict_mode_makes_defaulted_fields_nullable_and_required() -> None:
    """Strict mode needs every property: a field with a default becomes nullable instead."""
    schema = json_schema(WithDefaults)
    assert schema["required"] == ["count", "label", "tags", "color"]
    properties = schema["properties"]
    assert properties["count"] == {"anyOf": [{"type": "integer"}, NULL]}
    # Already nullable: not wrapped twice.
    assert properties["label"] == {"anyOf": [{"type": "string"}, NULL]}
    assert properties["tags"] == {"anyOf": [{"type": "array", "items": {"type": "string"}}, NULL]}
    assert properties["color"] == {"anyOf": [{"type": "string", "enum": ["red", "blue"]}, NULL]}
    assert "default" not in str(schema)


def test_non_strict_mode_leaves_defaulted_fields_optional_and_shows_plain_defaults() -> None:
    """Without strict mode defaults are optional; plain values (not factories) are shown."""
    schema = json_schema(WithDefaults, strict=False)
    assert schema["required"] == []
    properties = schema["properties"]
    assert properties["count"] == {"type": "integer", "default": 0}
    assert properties["label"] == {"anyOf": [{"type": "string"}, NULL], "default": None}
    assert properties["tags"] == {"type": "array", "items": {"type": "string"}}
    assert properties["color"] == {"type": "string", "enum": ["red", "blue"], "default": "red"}


def test_descriptions_come_from_the_docstring_and_metadata() -> None:
    """The class docstring's text describes the object; Attributes: and metadata its fields."""
    schema = json_schema(Person)
    assert schema["description"] == "Someone the model describes.\n\nIt has two paragraphs."
    properties = schema["properties"]
    assert properties["name"]["description"] == "The full name, as written."
    assert properties["age"] == {"description": "Age in years.", "type": "integer"}
    assert properties["nickname"]["description"] == "What friends say."


def test_fields_outside_init_are_not_part_of_the_schema() -> None:
    """``init=False`` fields are not filled by the model."""
    assert list(json_schema(Hidden)["properties"]) == ["shown"]


def test_a_self_referencing_root_refers_to_itself() -> None:
    """The root class refers to itself with ``#``; nothing is inlined forever."""
    schema = json_schema(Node)
    assert schema["description"] == "A tree node."
    assert schema["properties"]["children"] == {"type": "array", "items": {"$ref": "#"}}
    assert "$defs" not in schema


def test_a_recursive_nested_class_is_defined_once_under_defs() -> None:
    """A class that contains itself below the root is defined in $defs and referenced."""
    schema = json_schema(Forest)
    ref = {"$ref": "#/$defs/Node"}
    assert schema["properties"]["trees"] == {"type": "array", "items": ref}
    assert schema["properties"]["biggest"] == {"anyOf": [ref, NULL]}
    node = schema["$defs"]["Node"]
    assert node["properties"]["children"] == {"type": "array", "items": ref}
    assert node["required"] == ["value", "children"]


def test_a_description_next_to_a_ref_is_wrapped() -> None:
    """Strict mode takes no keyword beside $ref, so a described reference is wrapped."""
    builder = SchemaBuilder()
    builder.root_class(Forest)
    described = builder.type_schema(Annotated[Node, "The tallest."], "Forest.x")
    assert described == {"description": "The tallest.", "anyOf": [{"$ref": "#/$defs/Node"}]}


@pytest.mark.parametrize(
    ("cls", "field"),
    [
        pytest.param(HasAny, "HasAny.payload", id="any"),
        pytest.param(HasDatetime, "HasDatetime.when", id="datetime"),
        pytest.param(HasIntKeys, "HasIntKeys.scores", id="int-keys"),
        pytest.param(HasBareList, "HasBareList.items", id="bare-list"),
    ],
)
def test_an_annotation_without_a_schema_is_a_type_error_naming_the_field(
    cls: type[Any], field: str
) -> None:
    """Unsupported annotations fail with a TypeError that names the field."""
    with pytest.raises(TypeError, match=field.replace(".", r"\.")):
        json_schema(cls)


@pytest.mark.parametrize(
    "value", [pytest.param(dict, id="not-attrs"), pytest.param(Point(1, 2), id="instance")]
)
def test_only_attrs_classes_have_a_class_schema(value: Any) -> None:
    """Anything but an attrs class is rejected with a hint."""
    with pytest.raises(TypeError, match="attrs class"):
        json_schema(value)


def test_maps_and_fixed_tuples_make_a_schema_strict_incompatible() -> None:
    """Free-form maps and fixed tuples are described, but strict mode cannot take them."""
    for annotation in (dict[str, int], tuple[int, str]):
        builder = SchemaBuilder()
        builder.type_schema(annotation, "T.field")
        assert builder.strict_compatible is False
    plain = SchemaBuilder()
    plain.root_class(Forest)
    assert plain.strict_compatible is True


def test_docstring_sections_are_split_into_summary_and_entries() -> None:
    """Google-style Args:/Attributes: entries (with types, continuations) are read."""
    summary, entries = docstring_parts(
        """Look something up.

        Args:
            query (str): What to look for,
                in plain words.
            limit: At most this many.

        Returns:
            The results.
        """
    )
    assert summary == "Look something up."
    assert entries == {"query": "What to look for, in plain words.", "limit": "At most this many."}
    assert docstring_parts(None) == (None, {})
