"""JSON schemas from attrs classes and annotated parameters (structured outputs, tools).

Rules (:func:`json_schema` and :class:`SchemaBuilder` apply all of them):

* ``str``, ``int``, ``float``, ``bool`` → ``string``, ``integer``, ``number``, ``boolean``;
  ``None`` → ``null``.
* An attrs class → an ``object`` listing every ``init`` field under ``properties`` with
  ``"additionalProperties": false``. Its description is the class docstring's text before
  any section; a field's description is ``attrs.field(metadata={"description": ...})``,
  else its entry in the docstring's ``Attributes:`` section.
* ``list[X]``, ``Sequence[X]``, ``tuple[X, ...]``, ``set[X]``, ``frozenset[X]`` → an
  ``array`` of ``X``; ``tuple[X, Y]`` → an array of exactly those items (``prefixItems``).
* ``dict[str, X]`` / ``Mapping[str, X]`` → an ``object`` whose ``additionalProperties``
  is ``X``.
* ``Literal[...]`` and ``Enum`` subclasses → ``enum`` of their (JSON) values.
* ``X | None`` → ``anyOf`` ``X`` and ``null``; other unions → ``anyOf`` of the members in
  order (the parser tries them in the same order).
* ``Annotated[X, ...]`` → ``X``; a string among the metadata is the description.
* A class that contains itself (directly or further down) is defined once under
  ``$defs`` and referenced with ``$ref`` (``"#"`` for the root class).
* Anything else (``Any``, ``datetime``, a bare ``list``, ...) raises ``TypeError`` naming
  the field.

Strict mode (``strict=True``, what xAI's and OpenAI's ``"strict": true`` structured outputs
accept) lists *every* property under ``required``. A field with a default is then made
nullable instead, and the parser reads ``null`` as "use the default". Free-form maps
(``dict[str, X]``) and fixed-length tuples cannot be expressed in strict mode: the schema
still describes them, and :attr:`SchemaBuilder.strict_compatible` turns false so the caller
can send ``"strict": false``. Without strict mode, fields with a default are left out of
``required`` and their default is shown when it is a plain JSON value.
"""

from __future__ import annotations

import collections.abc
import enum
import inspect
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

__all__ = [
    "NO_VALUE",
    "FieldSpec",
    "SchemaBuilder",
    "attrs_field_specs",
    "docstring_parts",
    "json_schema",
]

_SCALARS: dict[Any, str] = {str: "string", bool: "boolean", int: "integer", float: "number"}
_NULL: dict[str, Any] = {"type": "null"}
#: The origins (``typing.get_origin``) of the array annotations a schema may use, and what
#: builds each from a JSON array (structured outputs and tool arguments use the builders).
ARRAYS: dict[Any, Callable[[list[Any]], Any]] = {
    list: list,
    tuple: tuple,
    set: set,
    frozenset: frozenset,
    collections.abc.Sequence: list,
    collections.abc.MutableSequence: list,
    collections.abc.Set: frozenset,
    collections.abc.MutableSet: set,
    collections.abc.Collection: list,
    collections.abc.Iterable: list,
}
#: The origins of the object (string-keyed map) annotations.
MAPPINGS = frozenset({dict, collections.abc.Mapping, collections.abc.MutableMapping})
# Tuples have rules of their own (fixed length, or ``tuple[X, ...]``).
_SEQUENCES = frozenset(ARRAYS.keys() - {tuple})
_UNION_ORIGINS = (typing.Union, types.UnionType)
_SUPPORTED = (
    "str, int, float, bool, None, attrs classes, list/tuple/set/Sequence of them, "
    "dict[str, X], Literal, Enum, X | None and unions of these"
)


class _NoValue:
    def __repr__(self) -> str:
        return "NO_VALUE"


#: :attr:`FieldSpec.default` when there is no default value to show (none, or a factory).
NO_VALUE: Any = _NoValue()


@attrs.frozen
class FieldSpec:
    """One property of an object schema: an attrs field or a function parameter."""

    name: str
    type: Any
    #: Whether the value may be left out (the field or parameter has a default).
    has_default: bool = False
    #: The default when it is a value (``NO_VALUE`` for none, or a factory).
    default: Any = NO_VALUE
    description: str | None = None


def json_schema(cls: type[Any], *, strict: bool = True) -> dict[str, Any]:
    """The JSON schema of an attrs class, as structured outputs and tools take it.

    Args:
        cls: an attrs class; nested attrs classes, lists, ``Optional``, ``Literal``,
            ``Enum`` and the other types listed in the module docstring are supported.
        strict: follow the rules of ``"strict": true`` structured outputs (every property
            required, fields with a default made nullable).

    Raises:
        TypeError: ``cls`` is not an attrs class, or a field's annotation has no JSON
            schema (the message names the field).

    Example::

        @attrs.define
        class City:
            name: str
            population: int | None = None

        json_schema(City)["required"]  # ["name", "population"]
    """
    builder = SchemaBuilder(strict=strict)
    return builder.finish(builder.root_class(cls))


class SchemaBuilder:
    """Builds one schema; remembers ``$defs`` and whether strict mode can take it."""

    def __init__(self, *, strict: bool = True) -> None:
        self.strict = strict
        #: False once a construct strict mode rejects (a free-form map, a fixed tuple) is used.
        self.strict_compatible = True
        self._defs: dict[str, dict[str, Any]] = {}
        self._def_names: dict[type[Any], str] = {}
        self._stack: list[type[Any]] = []
        self._recursive: set[type[Any]] = set()
        self._root: type[Any] | None = None

    # -- entry points ------------------------------------------------------------------------

    def root_class(self, cls: type[Any]) -> dict[str, Any]:
        """The schema of ``cls`` as the root of the document (self-references are ``#``)."""
        if not (isinstance(cls, type) and attrs.has(cls)):
            raise TypeError(
                f"expected an attrs class for a JSON schema, got {cls!r} "
                "(decorate it with @attrs.define)"
            )
        self._root = cls
        self._stack.append(cls)
        try:
            return self._object_of_class(cls)
        finally:
            self._stack.pop()

    def object_schema(
        self, fields: Iterable[FieldSpec], *, description: str | None = None, where: str
    ) -> dict[str, Any]:
        """An ``object`` schema with one property per :class:`FieldSpec`."""
        properties: dict[str, Any] = {}
        required: list[str] = []
        for spec in fields:
            label = f"{where}.{spec.name}"
            schema = self.type_schema(spec.type, label)
            if spec.has_default:
                if self.strict:
                    # Strict mode needs every property: null stands for "the default".
                    schema = _nullable(schema)
                elif spec.default is not NO_VALUE and _is_plain_json(spec.default):
                    schema = {**schema, "default": _json_value(spec.default)}
            if spec.description:
                schema = _described(schema, spec.description)
            properties[spec.name] = schema
            if self.strict or not spec.has_default:
                required.append(spec.name)
        schema = {"type": "object"}
        if description:
            schema["description"] = description
        schema.update(properties=properties, required=required, additionalProperties=False)
        return schema

    def finish(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The finished document: ``schema`` plus the ``$defs`` it references."""
        if self._defs:
            schema = {**schema, "$defs": dict(sorted(self._defs.items()))}
        return schema

    # -- types -------------------------------------------------------------------------------

    def type_schema(self, tp: Any, where: str) -> dict[str, Any]:
        """The schema of one annotation; ``where`` names it in errors (``Class.field``)."""
        if tp is None or tp is type(None):
            return dict(_NULL)
        if tp in _SCALARS:
            return {"type": _SCALARS[tp]}
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is typing.Annotated:
            schema = self.type_schema(args[0], where)
            notes = [a for a in args[1:] if isinstance(a, str)]
            return _described(schema, " ".join(notes)) if notes else schema
        if origin is typing.Literal:
            # Literal[Color.RED] means the member's value on the wire, as an Enum does.
            return _enum_schema([_json_value(arg) for arg in args], where)
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return _enum_schema([member.value for member in tp], where)
        if isinstance(tp, type) and attrs.has(tp):
            return self._class_schema(tp)
        if origin in _UNION_ORIGINS:
            return self._union_schema(args, where)
        if origin is tuple:
            return self._tuple_schema(args, where)
        if origin in _SEQUENCES and len(args) == 1:
            return {"type": "array", "items": self.type_schema(args[0], f"{where}[]")}
        if origin in MAPPINGS and len(args) == 2:
            if args[0] is not str:
                raise TypeError(f"{where}: JSON object keys are strings, not {args[0]!r}")
            self.strict_compatible = False
            values = self.type_schema(args[1], f"{where}{{}}")
            return {"type": "object", "additionalProperties": values}
        raise TypeError(f"{where}: {tp!r} has no JSON schema (supported: {_SUPPORTED})")

    def _union_schema(self, args: tuple[Any, ...], where: str) -> dict[str, Any]:
        members = [a for a in args if a is not type(None)]
        branches = [self.type_schema(member, where) for member in members]
        schema = branches[0] if len(branches) == 1 else {"anyOf": branches}
        return _nullable(schema) if len(members) < len(args) else schema

    def _tuple_schema(self, args: tuple[Any, ...], where: str) -> dict[str, Any]:
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": self.type_schema(args[0], f"{where}[]")}
        if not args or args == ((),):
            raise TypeError(f"{where}: an empty or bare tuple has no JSON schema")
        self.strict_compatible = False
        return {
            "type": "array",
            "prefixItems": [self.type_schema(a, f"{where}[{i}]") for i, a in enumerate(args)],
            "items": False,
            "minItems": len(args),
            "maxItems": len(args),
        }

    def _class_schema(self, cls: type[Any]) -> dict[str, Any]:
        if cls in self._stack:
            if cls is self._root:
                return {"$ref": "#"}
            self._recursive.add(cls)
            return {"$ref": f"#/$defs/{self._def_name(cls)}"}
        if cls in self._recursive:
            return {"$ref": f"#/$defs/{self._def_name(cls)}"}  # defined already
        self._stack.append(cls)
        try:
            schema = self._object_of_class(cls)
        finally:
            self._stack.pop()
        if cls in self._recursive:
            # Inlining a class that contains itself would never end: define it once.
            self._defs[self._def_name(cls)] = schema
            return {"$ref": f"#/$defs/{self._def_name(cls)}"}
        return schema

    def _def_name(self, cls: type[Any]) -> str:
        name = self._def_names.get(cls)
        if name is None:
            name = base = cls.__name__
            taken = set(self._def_names.values())
            counter = 2
            while name in taken:
                name, counter = f"{base}{counter}", counter + 1
            self._def_names[cls] = name
        return name

    def _object_of_class(self, cls: type[Any]) -> dict[str, Any]:
        summary, documented = docstring_parts(cls.__doc__)
        return self.object_schema(
            attrs_field_specs(cls, documented), description=summary, where=cls.__name__
        )


def attrs_field_specs(cls: type[Any], documented: Mapping[str, str]) -> list[FieldSpec]:
    """One :class:`FieldSpec` per field ``__init__`` takes, annotations resolved."""
    try:
        attrs.resolve_types(cls)
    except NameError as exc:
        raise TypeError(
            f"cannot resolve the annotations of {cls.__qualname__} ({exc}); classes whose "
            "annotations name other classes must be importable at module level"
        ) from None
    specs = []
    for field in attrs.fields(cls):
        if not field.init:
            continue
        if field.type is None:
            raise TypeError(f"{cls.__name__}.{field.name} has no annotation")
        default = field.default
        has_default = default is not attrs.NOTHING
        description = field.metadata.get("description") or documented.get(field.name)
        specs.append(
            FieldSpec(
                name=field.name,
                type=field.type,
                has_default=has_default,
                default=NO_VALUE
                if not has_default or isinstance(default, attrs.Factory)  # type: ignore[arg-type]
                else default,
                description=description,
            )
        )
    return specs


def _enum_schema(values: list[Any], where: str) -> dict[str, Any]:
    kinds: list[str] = []
    for value in values:
        kind = "null" if value is None else _SCALARS.get(type(value))
        if kind is None:
            raise TypeError(f"{where}: the choice {value!r} is not a JSON value")
        if kind not in kinds:
            kinds.append(kind)
    return {"type": kinds[0] if len(kinds) == 1 else kinds, "enum": values}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if schema.get("type") == "null" or _NULL in schema.get("anyOf", ()):
        return schema
    if "anyOf" in schema and len(schema) == 1:
        return {"anyOf": [*schema["anyOf"], dict(_NULL)]}
    return {"anyOf": [schema, dict(_NULL)]}


def _described(schema: dict[str, Any], description: str) -> dict[str, Any]:
    if "$ref" in schema:
        # Strict mode accepts no keyword next to $ref: wrap it to carry the description.
        schema = {"anyOf": [schema]}
    return {"description": description, **schema}


def _is_plain_json(value: Any) -> bool:
    if isinstance(value, enum.Enum):
        value = value.value
    return value is None or type(value) in _SCALARS


def _json_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


# -- docstrings --------------------------------------------------------------------------------

_SECTION = re.compile(
    r"^(Args|Arguments|Attributes|Parameters|Params|Keyword Args|Keyword Arguments|Returns|"
    r"Return|Yields|Raises|Example|Examples|Note|Notes|Warning|Warnings|See Also|Todo):\s*$"
)
_ENTRY = re.compile(r"^\*{0,2}(?P<name>\w+)\s*(?:\([^)]*\))?\s*:\s*(?P<text>.*)$")
_DOCUMENTED_SECTIONS = frozenset(
    {"Args", "Arguments", "Attributes", "Parameters", "Params", "Keyword Args", "Keyword Arguments"}
)


def docstring_parts(doc: str | None) -> tuple[str | None, dict[str, str]]:
    """A Google-style docstring's text before its first section, and the descriptions of
    the names its ``Args:`` / ``Attributes:`` sections document."""
    if not doc:
        return None, {}
    lines = inspect.cleandoc(doc).splitlines()
    summary: list[str] = []
    entries: dict[str, list[str]] = {}
    section: str | None = None
    current: list[str] | None = None
    entry_indent = 0
    for line in lines:
        header = _SECTION.match(line)
        if header is not None:
            section, current = header.group(1), None
            continue
        if section is None:
            summary.append(line)
            continue
        if section not in _DOCUMENTED_SECTIONS or not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        match = _ENTRY.match(line.strip())
        if match is not None and (current is None or indent <= entry_indent):
            entry_indent = indent
            current = entries.setdefault(match.group("name"), [])
            current.append(match.group("text"))
        elif current is not None:
            current.append(line.strip())
    text = "\n\n".join(_paragraphs(summary))
    described = {name: " ".join(" ".join(parts).split()) for name, parts in entries.items()}
    return text or None, {name: text for name, text in described.items() if text}


def _paragraphs(lines: list[str]) -> list[str]:
    """Blank-line separated paragraphs, each reflowed to one line."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    return paragraphs
