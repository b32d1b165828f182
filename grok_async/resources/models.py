"""``client.models``, ``client.language_models``, ``client.image_generation_models``,
``client.embedding_models`` and ``client.video_generation_models``.

Five catalogues with one behaviour: ``list()`` returns every model the key can use,
``retrieve(id)`` one of them by id or alias (404 :class:`NotFoundError` if unknown).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from .._sentinels import NOT_GIVEN, NotGiven
from .._timeout import TimeoutTypes
from ..types.models import (
    EmbeddingModel,
    ImageGenerationModel,
    LanguageModel,
    Model,
    VideoGenerationModel,
)
from ._decode import decode_list, decode_object, path_segment

if TYPE_CHECKING:
    from .._requester import Requester

__all__ = [
    "EmbeddingModels",
    "ImageGenerationModels",
    "LanguageModels",
    "Models",
    "VideoGenerationModels",
]

M = TypeVar("M", Model, LanguageModel, ImageGenerationModel, EmbeddingModel, VideoGenerationModel)


class _Catalogue(Generic[M]):
    """``list()`` and ``retrieve()`` of one ``GET /v1/<path>`` catalogue."""

    _path: ClassVar[str]
    #: The key of the list in the body: OpenAI's ``data`` or xAI's ``models``.
    _list_key: ClassVar[str]
    _model: type[M]

    def __init__(self, client: Requester) -> None:
        self._client = client

    async def list(
        self,
        *,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> list[M]:
        """Every model of this catalogue that the API key may use, as a plain list.

        Each model's ``request_id`` is that of the one response they came in.

        Raises:
            APIStatusError: a 4xx/5xx answer (5xx after the retries).
            APIConnectionError, APITimeoutError: after the retries are spent.
            APIResponseValidationError: a body that is not a list of models.
        """
        return await self._client.request(
            "GET",
            self._path,
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
            decode=lambda reply: decode_list(reply, self._list_key, self._model),
        )

    async def retrieve(
        self,
        model: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> M:
        """One model, by id or alias (the answer carries the canonical ``id``).

        Raises:
            NotFoundError: no such model, or the key's team may not use it.
            ValueError: ``model`` is empty, ``"."`` or ``".."``; nothing is sent.
            APIStatusError, APIConnectionError, APITimeoutError: as for :meth:`list`.
        """
        path = f"{self._path}/{path_segment(model, 'model')}"
        return await self._client.request(
            "GET",
            path,
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
            decode=lambda reply: decode_object(reply, self._model),
        )


class Models(_Catalogue[Model]):
    """``client.models``: every model, in OpenAI's shape (``GET /v1/models``)."""

    _path = "/models"
    _list_key = "data"
    _model = Model


class LanguageModels(_Catalogue[LanguageModel]):
    """``client.language_models``: chat models with prices, modalities and aliases
    (``GET /v1/language-models``)."""

    _path = "/language-models"
    _list_key = "models"
    _model = LanguageModel


class ImageGenerationModels(_Catalogue[ImageGenerationModel]):
    """``client.image_generation_models``: image models with their price per image
    (``GET /v1/image-generation-models``)."""

    _path = "/image-generation-models"
    _list_key = "models"
    _model = ImageGenerationModel


class EmbeddingModels(_Catalogue[EmbeddingModel]):
    """``client.embedding_models``: embedding models with their prices
    (``GET /v1/embedding-models``)."""

    _path = "/embedding-models"
    _list_key = "models"
    _model = EmbeddingModel


class VideoGenerationModels(_Catalogue[VideoGenerationModel]):
    """``client.video_generation_models``: video generation models
    (``GET /v1/video-generation-models``)."""

    _path = "/video-generation-models"
    _list_key = "models"
    _model = VideoGenerationModel
