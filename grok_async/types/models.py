"""Response models of the model catalogue: ``/v1/models``, ``/v1/language-models``,
``/v1/image-generation-models``, ``/v1/embedding-models`` and ``/v1/video-generation-models``.

xAI states every price as an integer in USD cents per 100 million units (tokens, images,
searches): one unit of that scale is 10**-10 USD, the same "tick" as ``cost_in_usd_ticks``.
:class:`ModelPricing` turns them into the figures people quote: USD per million tokens,
USD per image, USD per thousand searches.
"""

from __future__ import annotations

from attrs import define, field, frozen

from .._constants import USD_TICKS
from ._base import WireModel
from ._cost import ticks_to_usd

__all__ = [
    "USD_TICKS",
    "EmbeddingModel",
    "ImageGenerationModel",
    "LanguageModel",
    "Model",
    "ModelPricing",
    "VideoGenerationModel",
    "price_to_usd",
]


def price_to_usd(price: int | None, per: int = 1) -> float | None:
    """Convert an xAI price (USD cents per 100 million units) to USD per *per* units.

    ``price_to_usd(30_000, per=1_000_000)`` is ``3.0``: $3 per million tokens. ``None``
    (a price the server did not send) stays ``None``.
    """
    return None if price is None else ticks_to_usd(price * per)


@define
class Model(WireModel):
    """A model as ``GET /v1/models`` lists it (OpenAI's shape: id, owner, creation time)."""

    id: str
    created: int = 0
    object: str = "model"
    owned_by: str = ""
    #: The ``x-request-id`` of the response this came from; set by the client.
    request_id: str | None = field(default=None, eq=False, repr=False)


@frozen
class ModelPricing:
    """A language model's prices in USD, converted from xAI's integer units.

    Token prices are USD per million tokens; ``search`` is USD per thousand sources used
    by search tools. A price the server did not send is ``None``.
    """

    prompt_text: float | None
    cached_prompt_text: float | None
    prompt_image: float | None
    completion_text: float | None
    search: float | None


class _Aliased:
    """What the catalogues of language and image models share: an id and its aliases."""

    __slots__ = ()
    id: str
    aliases: list[str]

    @property
    def names(self) -> list[str]:
        """The id followed by every alias: each is a valid ``model=`` value."""
        return [self.id, *self.aliases]


@define
class LanguageModel(_Aliased, WireModel):
    """A chat model with its modalities, prices and aliases (``GET /v1/language-models``).

    The ``*_price`` fields are as sent: integers in USD cents per 100 million tokens
    (``30000`` is $3.00 per million). :attr:`pricing` has them in USD per million tokens.
    No endpoint reports a context window.
    """

    id: str
    fingerprint: str | None = None
    created: int = 0
    object: str = "model"
    owned_by: str = ""
    version: str | None = None
    input_modalities: list[str] = field(factory=list)
    output_modalities: list[str] = field(factory=list)
    prompt_text_token_price: int | None = None
    cached_prompt_text_token_price: int | None = None
    prompt_image_token_price: int | None = None
    completion_text_token_price: int | None = None
    #: USD cents per 100 million sources used by search.
    search_price: int | None = None
    #: Other names the model answers to, e.g. ``grok-4`` for ``grok-4-0709``.
    aliases: list[str] = field(factory=list)
    #: The ``x-request-id`` of the response this came from; set by the client.
    request_id: str | None = field(default=None, eq=False, repr=False)

    @property
    def pricing(self) -> ModelPricing:
        """The prices in USD per million tokens (search: per thousand sources)."""
        million = 1_000_000
        return ModelPricing(
            prompt_text=price_to_usd(self.prompt_text_token_price, million),
            cached_prompt_text=price_to_usd(self.cached_prompt_text_token_price, million),
            prompt_image=price_to_usd(self.prompt_image_token_price, million),
            completion_text=price_to_usd(self.completion_text_token_price, million),
            search=price_to_usd(self.search_price, 1_000),
        )


@define
class ImageGenerationModel(_Aliased, WireModel):
    """An image generation model (``GET /v1/image-generation-models``).

    ``image_price`` is in USD cents per 100 million images; :attr:`price_per_image` is in
    USD.
    """

    id: str
    fingerprint: str | None = None
    #: The longest prompt the model takes, in characters.
    max_prompt_length: int | None = None
    created: int = 0
    object: str = "model"
    owned_by: str = ""
    version: str | None = None
    input_modalities: list[str] = field(factory=list)
    output_modalities: list[str] = field(factory=list)
    image_price: int | None = None
    aliases: list[str] = field(factory=list)
    #: The ``x-request-id`` of the response this came from; set by the client.
    request_id: str | None = field(default=None, eq=False, repr=False)

    @property
    def price_per_image(self) -> float | None:
        """USD per generated image, or None if the server sent no price."""
        return price_to_usd(self.image_price)


@define
class EmbeddingModel(_Aliased, WireModel):
    """An embedding model with its modalities, prices and aliases
    (``GET /v1/embedding-models``).

    The ``*_price`` fields are as sent, in xAI's integer price unit (see the module's
    docstring); :attr:`price_per_million_tokens` is the text price in USD per million
    tokens.
    """

    id: str
    fingerprint: str | None = None
    created: int = 0
    object: str = "model"
    owned_by: str = ""
    version: str | None = None
    input_modalities: list[str] = field(factory=list)
    output_modalities: list[str] = field(factory=list)
    prompt_text_token_price: int | None = None
    prompt_image_token_price: int | None = None
    aliases: list[str] = field(factory=list)
    #: The ``x-request-id`` of the response this came from; set by the client.
    request_id: str | None = field(default=None, eq=False, repr=False)

    @property
    def price_per_million_tokens(self) -> float | None:
        """USD per million input text tokens, or None if the server sent no price."""
        return price_to_usd(self.prompt_text_token_price, 1_000_000)


@define
class VideoGenerationModel(_Aliased, WireModel):
    """A video generation model (``GET /v1/video-generation-models``); the catalogue
    states no prices: a video's cost comes with it, in ``usage.cost_usd``."""

    id: str
    fingerprint: str | None = None
    created: int = 0
    object: str = "model"
    owned_by: str = ""
    version: str | None = None
    input_modalities: list[str] = field(factory=list)
    output_modalities: list[str] = field(factory=list)
    aliases: list[str] = field(factory=list)
    #: The ``x-request-id`` of the response this came from; set by the client.
    request_id: str | None = field(default=None, eq=False, repr=False)
