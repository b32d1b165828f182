"""The base every response model shares: the decoded JSON stays reachable."""

from __future__ import annotations

from collections.abc import Callable, KeysView, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
    from pydantic_core import CoreSchema

__all__ = ["WireModel", "use_unstructure"]


def _no_converter(model: object) -> Any:
    raise RuntimeError("grok_async._serialization was not imported")  # pragma: no cover


# The converter's unstructure function, installed by ``_serialization`` when it is imported
# (always, with the package): the models stay free of an import of the converter module,
# which imports them.
_unstructure: Callable[[Any], Any] = _no_converter


def use_unstructure(unstructure: Callable[[Any], Any]) -> None:
    """Install the function ``to_dict()`` uses for models built by hand."""
    global _unstructure
    _unstructure = unstructure


class WireModel:
    """Mixin for models decoded from the wire.

    The converter stores the JSON object a model was built from in ``_raw``, so fields the
    server adds before this library knows them are never lost: ``model.raw["new_field"]``
    or ``model.to_dict()``. Models built by hand have no raw form; ``to_dict()`` then
    unstructures the fields.
    """

    # pydantic-core serialises a value typed `Any` (a model inside `dict[str, Any]`) with the
    # SchemaSerializer found here; built on first use, absent when pydantic is not installed.
    __pydantic_serializer__: Any

    # attrs copies these slots into each slotted subclass; they are deliberately not attrs
    # fields, so they stay out of __init__, __eq__ and __repr__.
    __slots__ = ("_raw",)
    _raw: Mapping[str, Any]

    @property
    def raw(self) -> Mapping[str, Any]:
        """The JSON object as received, unknown fields included (empty if built by hand)."""
        try:
            return self._raw
        except AttributeError:
            return {}

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-compatible dict: the received object, or the fields if built by hand."""
        try:
            return dict(self._raw)
        except AttributeError:
            return _unstructure(self)  # type: ignore[no-any-return]

    # -- the JSON of a model for web frameworks --------------------------------------------------

    # Not iterable (iter() raises TypeError as before keys/__getitem__ existed), unless a
    # list-like model defines __iter__ over its items.
    __iter__: Any = None

    def keys(self) -> KeysView[str]:
        """The top-level keys of :meth:`to_dict`, so that ``dict(model)`` is the JSON object
        (FastAPI's ``jsonable_encoder`` and Starlette-style encoders fall back to ``dict()``)."""
        return self.to_dict().keys()

    def __getitem__(self, key: str) -> Any:
        """``model[key]`` is ``model.to_dict()[key]``: plain JSON values, not models."""
        return self.to_dict()[key]

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """As a pydantic type: an instance of the class, serialised as :meth:`to_dict`.

        pydantic cannot build a schema from an attrs class's annotations with this
        library's converters; the model already knows its JSON, so pydantic is told to
        take instances as they are and to ask them for it.
        """
        from pydantic_core import core_schema

        model = source if isinstance(source, type) else cls
        return core_schema.is_instance_schema(
            model,
            serialization=core_schema.plain_serializer_function_ser_schema(
                _json_of, when_used="always"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        """A JSON schema for OpenAPI documents (FastAPI's ``/openapi.json``): an object
        named after the class; the exact shape is xAI's, documented by xAI."""
        summary = (cls.__doc__ or "").strip().split("\n")[0]
        return {"type": "object", "title": cls.__name__, "description": summary}


def _json_of(model: WireModel) -> dict[str, Any]:
    """pydantic's serializer of a model (a module-level function: pydantic keeps it)."""
    return model.to_dict()


class _PydanticSerializer:
    """``WireModel.__pydantic_serializer__``: one pydantic-core serializer calling
    :meth:`WireModel.to_dict`, made when pydantic first asks for it."""

    _serializer: Any = None

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if self._serializer is None:
            try:
                from pydantic_core import SchemaSerializer, core_schema
            except ImportError:
                # getattr(model, "__pydantic_serializer__", None) must then find nothing.
                raise AttributeError("__pydantic_serializer__") from None
            self._serializer = SchemaSerializer(
                core_schema.any_schema(
                    serialization=core_schema.plain_serializer_function_ser_schema(_json_of)
                )
            )
        return self._serializer


WireModel.__pydantic_serializer__ = _PydanticSerializer()
