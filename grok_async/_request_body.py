"""The JSON body of a generating call, built one way for chat completions and the
Responses API.

Their ``create()`` methods take the endpoint's API parameters as keyword arguments.
:class:`BodyRules` holds what differs between the two endpoints: the names each knows
(``_request_params``) and how friendly values are put in the API's shape
(``_request_shapes``). :meth:`BodyRules.build` applies the rules they share:

* a keyword the endpoint does not know is a ``TypeError`` naming it, raised before
  anything is sent: a misspelt parameter never goes silently missing, and ``extra_body``
  is the way to send one this library does not know yet;
* a parameter left at ``None`` is not sent (never ``null``): the server's default applies;
* ``extra_body`` is merged last and as given (not reshaped), so it overrides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ._request_params import CHAT_PARAMETERS, RESPONSES_PARAMETERS
from ._request_shapes import reshape_chat_body, reshape_responses_body
from ._serialization import encode_json

__all__ = ["CHAT_BODY", "RESPONSES_BODY", "BodyRules"]


class BodyRules:
    """How one endpoint's ``create()`` turns its keyword arguments into a JSON body."""

    __slots__ = ("parameters", "reshape")

    def __init__(
        self, parameters: frozenset[str], reshape: Callable[[dict[str, Any]], None]
    ) -> None:
        #: The optional parameters the endpoint takes as keywords.
        self.parameters = parameters
        #: Puts the body's values in the API's shape, in place.
        self.reshape = reshape

    def build(
        self,
        body: dict[str, Any],
        stream: bool | None,
        params: Mapping[str, Any],
        extra_body: Mapping[str, Any] | None,
    ) -> bytes:
        """The encoded body: ``body`` (the required parameters, in a dict of the
        caller's own that this fills) with ``"stream": true`` if ``stream``, every
        parameter of ``params`` that is not ``None``, reshaped, then ``extra_body``.

        Raises:
            TypeError: ``params`` holds keywords that are not :attr:`parameters`; the
                message names them all. Nothing is built.
        """
        if not params.keys() <= self.parameters:
            unknown = ", ".join(sorted(params.keys() - self.parameters))
            raise TypeError(
                f"create() got unexpected keyword arguments: {unknown} "
                "(send parameters this library does not know yet with extra_body=)"
            )
        if stream:
            body["stream"] = True
        for name, value in params.items():
            if value is not None:
                body[name] = value  # attrs objects and iterables: encode_json converts them
        self.reshape(body)
        if extra_body:
            body.update(extra_body)
        return encode_json(body)


#: ``POST /v1/chat/completions``.
CHAT_BODY = BodyRules(CHAT_PARAMETERS, reshape_chat_body)
#: ``POST /v1/responses``.
RESPONSES_BODY = BodyRules(RESPONSES_PARAMETERS, reshape_responses_body)
