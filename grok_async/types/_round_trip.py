"""Models sent back keep what the server sent: unstructuring a decoded model adds the
fields of its raw JSON that the model has no attribute for.

A Responses output item goes back to the server as an input item (reasoning with its
encrypted content, a server-side tool call, a message with its annotations). The server
may have put fields on it this library does not model yet; without them the item is not
the one the server made. Known fields come from the object, so a change the caller made
is what is sent, and a known field left at None stays out, as for every request value.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from .._serialization import converter
from ._base import WireModel

__all__ = ["keep_unknown_fields"]


@functools.cache
def _field_names(cls: type[Any]) -> frozenset[str]:
    return frozenset(field.name for field in attrs.fields(cls))


def _with_unknown_fields(hook: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def unstructure(obj: Any) -> Any:
        data = hook(obj)
        raw = obj.raw if isinstance(obj, WireModel) else None
        if raw and isinstance(data, dict):
            known = _field_names(obj.__class__)
            for key, value in raw.items():
                if key not in known and key not in data:
                    data[key] = value
        return data

    return unstructure


def keep_unknown_fields(classes: Iterable[type[WireModel]]) -> None:
    """Make each of ``classes`` (exactly, not its subclasses: list each one) unstructure
    with the unknown fields of the JSON it was decoded from.

    Each class's current hook is wrapped, so a family's dispatcher (see
    ``types.responses._register_tagged``) keeps dispatching; register after it. A class's
    generated hook binds the hooks of its fields' types when it is made (here, for a class
    whose hook was not made yet): list the classes of fields before the classes using them.
    """
    for cls in classes:
        hook = _with_unknown_fields(converter.get_unstructure_hook(cls))
        converter.register_unstructure_hook_func(_is(cls), hook)


def _is(cls: type[Any]) -> Callable[[Any], bool]:
    """A predicate matching exactly ``cls``: its subclasses have hooks of their own."""
    return lambda t: t is cls
