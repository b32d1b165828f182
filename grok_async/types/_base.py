"""The base every response model shares: the decoded JSON stays reachable."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["WireModel"]


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
            from .._serialization import converter

            return converter.unstructure(self)  # type: ignore[no-any-return]
