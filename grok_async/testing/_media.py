"""The emulator's endpoints beyond chat, Responses and images: embeddings and their models,
documents search, videos and their models, and speech. One object holds their state; its
``add_routes`` puts them on the application.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from ._catalog import Catalog
from ._documents import DocumentStore
from ._embeddings import EmbeddingsEndpoint
from ._errors import error_response, model_not_found_message
from ._speech import Speech
from ._videos import VIDEO_PATH, VideoStudio

__all__ = ["MediaEndpoints"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class MediaEndpoints:
    """Embeddings, documents, videos and speech of one emulator."""

    def __init__(self, catalog: Catalog, *, video_delay: float) -> None:
        self._catalog = catalog
        self.embeddings = EmbeddingsEndpoint(catalog)
        self.documents = DocumentStore()
        self.videos = VideoStudio(catalog, video_delay)
        self.speech = Speech()

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """Serve every endpoint of this module on ``router``."""
        router.add_post("/v1/embeddings", self.embeddings.create)
        router.add_get("/v1/embedding-models", self._catalogue("embedding"))
        router.add_get("/v1/embedding-models/{model_id}", self._lookup("embedding"))
        router.add_post("/v1/documents/search", self.documents.search)
        router.add_post("/v1/videos/generations", self.videos.generations)
        router.add_post("/v1/videos/edits", self.videos.edits)
        router.add_post("/v1/videos/extensions", self.videos.extensions)
        router.add_get("/v1/videos/{request_id}", self.videos.retrieve)
        router.add_get(VIDEO_PATH + "{name}", self.videos.serve)
        router.add_get("/v1/video-generation-models", self._catalogue("video"))
        router.add_get("/v1/video-generation-models/{model_id}", self._lookup("video"))
        router.add_post("/v1/tts", self.speech.tts)
        router.add_post("/v1/stt", self.speech.stt)

    def _catalogue(self, kind: str) -> Handler:
        """``GET`` of the catalogue of one kind of model: ``{"models": [...]}``."""
        body = orjson.dumps(
            {"models": [m.catalogue_object(kind) for m in self._catalog.of_kind(kind)]}
        )

        async def handler(_request: web.Request) -> web.StreamResponse:
            return web.Response(body=body, content_type="application/json")

        return handler

    def _lookup(self, kind: str) -> Handler:
        """``GET .../{model_id}`` of one kind of model, by id or alias (404 otherwise)."""

        async def handler(request: web.Request) -> web.StreamResponse:
            name = request.match_info["model_id"]
            model = self._catalog.resolve(name)
            if model is None or model.kind != kind:
                return error_response(404, model_not_found_message(name))
            return web.Response(
                body=orjson.dumps(model.catalogue_object(kind)), content_type="application/json"
            )

        return handler
