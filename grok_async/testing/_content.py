"""Made-up content for the emulator's answers: sentences determined by a seed, and
values that fit a JSON schema (tool arguments, structured outputs)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

__all__ = ["formatted_content", "placeholder", "sentence"]

_WORDS = (
    "amber", "anchor", "autumn", "beacon", "bright", "bridge", "calm", "canyon",
    "cedar", "clear", "cloud", "comet", "copper", "crisp", "dawn", "delta",
    "ember", "field", "forest", "gentle", "glacier", "golden", "harbor", "hollow",
    "island", "jade", "kindle", "lantern", "lively", "lunar", "meadow", "mellow",
    "mirror", "mountain", "north", "ocean", "orbit", "pebble", "quiet", "radiant",
    "river", "saffron", "signal", "silver", "solar", "spark", "steady", "summit",
    "swift", "tidal", "timber", "topaz", "valley", "velvet", "violet", "wander",
    "willow", "winter", "wonder", "yonder", "zenith", "echo", "fable", "grove",
)  # fmt: skip


def sentence(seed: str, min_words: int, max_words: int) -> str:
    """A made-up sentence fully determined by *seed*."""
    digest = hashlib.blake2b(seed.encode(), digest_size=40).digest()
    count = min_words + digest[0] % (max_words - min_words + 1)
    words = [_WORDS[digest[2 + i] % len(_WORDS)] for i in range(count)]
    words[0] = words[0].capitalize()
    comma_after = 1 + digest[1] % (count - 2)
    words[comma_after] += ","
    return " ".join(words) + "."


def placeholder(schema: Any, depth: int = 0) -> Any:
    """A value of the type *schema* asks for, filling only required properties."""
    if not isinstance(schema, Mapping) or depth > 8:
        return "example"
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        for key in ("anyOf", "oneOf", "allOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                return placeholder(schema[key][0], depth + 1)
        kind = "object" if "properties" in schema else "string"
    if kind == "object":
        properties = schema.get("properties")
        properties = properties if isinstance(properties, Mapping) else {}
        required = schema.get("required")
        names = [n for n in required if isinstance(n, str)] if isinstance(required, list) else []
        return {name: placeholder(properties.get(name), depth + 1) for name in names}
    if kind == "array":
        items = schema.get("items")
        return [placeholder(items, depth + 1)] if isinstance(items, Mapping) else []
    simple: dict[str, Any] = {
        "string": "example",
        "integer": 1,
        "number": 1.5,
        "boolean": True,
        "null": None,
    }
    return simple.get(str(kind), "example")


# -- structured outputs: content that fits the requested response_format -----------------------

# Below this depth optional branches (null, empty arrays) are taken, so recursive schemas end.
_SHALLOW = 3
_MAX_DEPTH = 12


def formatted_content(response_format: Any, seed: str) -> str | None:
    """JSON text for a ``json_schema`` / ``json_object`` response format, else None."""
    if not isinstance(response_format, Mapping):
        return None
    kind = response_format.get("type")
    if kind == "json_object":
        value: Any = {"answer": sentence(seed, 4, 10)}
    elif kind == "json_schema":
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, Mapping) else None
        if not isinstance(schema, Mapping):
            schema = {"type": "object"}
        value = _fitting(schema, schema, seed, 0)
    else:
        return None
    return orjson.dumps(value).decode()


def _number(seed: str) -> int:
    return int.from_bytes(hashlib.blake2b(seed.encode(), digest_size=4).digest(), "big")


def _resolve(root: Mapping[str, Any], ref: str) -> Any:
    """The schema a local ``$ref`` (``#`` or ``#/$defs/Name``) points to, or None."""
    if not ref.startswith("#"):
        return None
    node: Any = root
    for part in filter(None, ref[1:].split("/")):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _fitting(schema: Any, root: Mapping[str, Any], seed: str, depth: int) -> Any:
    """A value that fits *schema*, fully determined by *seed* (and the schema)."""
    if depth > _MAX_DEPTH or schema is False:
        return None
    if not isinstance(schema, Mapping):  # ``true`` (anything goes) or unreadable: some text
        return sentence(seed, 3, 5)
    shallow = depth >= _SHALLOW
    if isinstance(schema.get("$ref"), str):
        return _fitting(_resolve(root, schema["$ref"]), root, seed, depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][_number(seed) % len(schema["enum"])]
    for key in ("anyOf", "oneOf", "allOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            nulls = [b for b in branches if isinstance(b, Mapping) and b.get("type") == "null"]
            others = [b for b in branches if b not in nulls] or nulls
            if shallow and nulls:
                return None
            return _fitting(others[_number(seed) % len(others)], root, seed, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = "null" if not kinds or (shallow and "null" in kind) else kinds[0]
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind == "object":
        return _fitting_object(schema, root, seed, depth)
    if kind == "array":
        return _fitting_array(schema, root, seed, depth)
    return _fitting_scalar(str(kind), schema, seed)


def _fitting_object(
    schema: Mapping[str, Any], root: Mapping[str, Any], seed: str, depth: int
) -> dict[str, Any]:
    properties = schema.get("properties")
    if isinstance(properties, Mapping) and properties:
        return {
            name: _fitting(sub, root, f"{seed}\x00{name}", depth + 1)
            for name, sub in properties.items()
        }
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping):
        return {"key": _fitting(extra, root, f"{seed}\x00key", depth + 1)}
    return {}


def _fitting_array(
    schema: Mapping[str, Any], root: Mapping[str, Any], seed: str, depth: int
) -> list[Any]:
    prefix = schema.get("prefixItems")
    if isinstance(prefix, list):
        return [_fitting(sub, root, f"{seed}\x00{i}", depth + 1) for i, sub in enumerate(prefix)]
    low = schema.get("minItems", 0)
    high = schema.get("maxItems", 2)
    count = max(low, min(high, 0 if depth >= _SHALLOW else 2))
    items = schema.get("items", {})
    return [_fitting(items, root, f"{seed}\x00{i}", depth + 1) for i in range(count)]


def _fitting_scalar(kind: str, schema: Mapping[str, Any], seed: str) -> Any:
    number = _number(seed)
    if kind in ("integer", "number"):
        low = schema.get("minimum", 0)
        high = schema.get("maximum", low + 100)
        value = low + number % (int(high - low) + 1) if high >= low else low
        return value if kind == "integer" or value >= high else value + 0.5
    if kind == "boolean":
        return bool(number % 2)
    if kind == "null":
        return None
    text = sentence(seed, 3, 5).rstrip(".")
    low = schema.get("minLength", 0)
    text = text.ljust(low, "x")
    high = schema.get("maxLength")
    return text[:high] if isinstance(high, int) else text
