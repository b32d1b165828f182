"""The base every response model shares: the decoded JSON stays reachable."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

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
