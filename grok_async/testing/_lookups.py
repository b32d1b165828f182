"""The emulator's read-only lookups: the model catalogues (``/v1/models``,
``/v1/language-models``, ``/v1/image-generation-models`` and one model of each), the
tokenizer (``/v1/tokenize-text``) and the key's own description (``/v1/api-key``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from ._admission import bearer_token
from ._catalog import Catalog, hash_text
from ._errors import TEAM_ID, error_response, mask_key, model_not_found_message
from ._tokens import split_tokens, token_id
from ._validation import InvalidRequest, parse_json_body

__all__ = ["Lookups"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_USER_ID = "3f1c9a52-8d7e-4b60-a1f2-5e9d0c4b7a13"
_KEY_TIME = "2025-01-01T00:00:00Z"


class Lookups:
    """The catalogue, tokenizer and api-key endpoints of one emulator."""

    def __init__(self, catalog: Catalog, *, api_key: str | None) -> None:
        self._catalog = catalog
        self._api_key = api_key

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """Serve every endpoint of this module on ``router``."""
        catalog = self._catalog
        models = {"object": "list", "data": [m.model_object() for m in catalog.models]}
        language = {"models": [m.language_model_object() for m in catalog.language_models]}
        image = {"models": [m.image_model_object() for m in catalog.image_models]}
        router.add_get("/v1/models", _constant(models))
        router.add_get("/v1/models/{model_id}", self._model_lookup("models"))
        router.add_get("/v1/language-models", _constant(language))
        router.add_get("/v1/language-models/{model_id}", self._model_lookup("language"))
        router.add_get("/v1/image-generation-models", _constant(image))
        router.add_get("/v1/image-generation-models/{model_id}", self._model_lookup("image"))
        router.add_post("/v1/tokenize-text", self.tokenize)
        router.add_get("/v1/api-key", self.api_key)

    def _model_lookup(self, family: str) -> Handler:
        """A handler for ``GET .../{model_id}`` of one model family: "models" (any model,
        OpenAI shape), "language" or "image" (that kind only, xAI shape)."""

        async def handler(request: web.Request) -> web.StreamResponse:
            name = request.match_info["model_id"]
            model = self._catalog.resolve(name)
            if model is None or family not in ("models", model.kind):
                return error_response(404, model_not_found_message(name))
            if family == "language":
                payload = model.language_model_object()
            elif family == "image":
                payload = model.image_model_object()
            else:
                payload = model.model_object()
            return web.Response(body=orjson.dumps(payload), content_type="application/json")

        return handler

    async def tokenize(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/tokenize-text``: the emulator's own word-piece tokens of ``text``."""
        try:
            body = parse_json_body(request.content_type, await request.read())
            text = body.get("text")
            if not isinstance(text, str):
                raise InvalidRequest(
                    422,
                    "Failed to deserialize the JSON body into the target type: "
                    "missing or invalid field `text`",
                )
            name = body.get("model")
            if not isinstance(name, str) or not name:
                raise InvalidRequest(400, "The request must specify a model.")
            if self._catalog.resolve(name) is None:
                raise InvalidRequest(404, model_not_found_message(name))
        except InvalidRequest as exc:
            return error_response(exc.status, exc.message)
        tokens = [
            {
                "token_id": token_id(piece),
                "string_token": piece,
                "token_bytes": list(piece.encode()),
            }
            for piece in split_tokens(text)
        ]
        return web.Response(
            body=orjson.dumps({"token_ids": tokens}), content_type="application/json"
        )

    async def api_key(self, request: web.Request) -> web.StreamResponse:
        """``GET /v1/api-key``: the calling key, redacted, with a stable made-up id."""
        key = self._api_key or bearer_token(request) or ""
        key_id = uuid.UUID(int=hash_text(key) << 64 | hash_text(key[::-1]), version=4)
        payload = {
            "redacted_api_key": mask_key(key),
            "user_id": _USER_ID,
            "name": "FakeGrok key",
            "create_time": _KEY_TIME,
            "modify_time": _KEY_TIME,
            "modified_by": _USER_ID,
            "team_id": TEAM_ID,
            "acls": ["api-key:model:*", "api-key:endpoint:*"],
            "api_key_id": str(key_id),
            "team_blocked": False,
            "api_key_blocked": False,
            "api_key_disabled": False,
        }
        return web.Response(body=orjson.dumps(payload), content_type="application/json")


def _constant(payload: object) -> Handler:
    """A handler that always answers ``payload``, encoded once."""
    body = orjson.dumps(payload)

    async def handler(_request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, content_type="application/json")

    return handler
