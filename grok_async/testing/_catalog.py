"""The models the emulator knows, with the metadata xAI's model endpoints return.

Prices follow xAI's unit for language models: USD cents per 100 million tokens (so
``30000`` is $3.00 per million). They are illustrative, not a price list to rely on.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

__all__ = ["BUILTIN_MODELS", "Catalog", "ModelInfo", "hash_text", "is_reasoning_model"]


def is_reasoning_model(model_id: str) -> bool:
    """Whether the emulator streams ``reasoning_content`` for *model_id*.

    Grok's reasoning models that expose their trace are named "...-mini", "...-code-..." or
    "...-reasoning"; "...-non-reasoning" models and grok-4-0709 (whose reasoning is hidden)
    return none.
    """
    name = model_id.lower()
    if "non-reasoning" in name:
        return False
    return "mini" in name or "reasoning" in name or "code" in name


@attrs.frozen
class ModelInfo:
    """One model: its canonical id, aliases and the fields of xAI's model objects."""

    id: str
    aliases: tuple[str, ...] = ()
    kind: str = "language"  # "language", "image", "embedding" or "video"
    created: int = 1_735_689_600  # 2025-01-01, for models the catalog has no date for
    version: str = "1.0.0"
    input_modalities: tuple[str, ...] = ("text",)
    output_modalities: tuple[str, ...] = ("text",)
    prompt_price: int = 20_000
    cached_prompt_price: int = 5_000
    completion_price: int = 50_000
    image_price: int = 0
    search_price: int = 250_000_000
    #: USD ticks per second of 480p video (higher resolutions cost multiples of it).
    video_price: int = 0

    @property
    def sees_images(self) -> bool:
        """Whether the model accepts image inputs."""
        return "image" in self.input_modalities

    @property
    def fingerprint(self) -> str:
        """A stable ``fp_...`` value, used for ``system_fingerprint`` too."""
        return "fp_" + format(hash_text(self.id) % 16**10, "010x")

    def model_object(self) -> dict[str, object]:
        """The OpenAI-shaped object of ``GET /v1/models``."""
        return {"id": self.id, "created": self.created, "object": "model", "owned_by": "xai"}

    def _xai_model_object(self, **fields: object) -> dict[str, object]:
        """What every xAI-shaped catalogue object carries, then the family's ``fields``."""
        return {
            "id": self.id,
            "fingerprint": self.fingerprint,
            "created": self.created,
            "object": "model",
            "owned_by": "xai",
            "version": self.version,
            "input_modalities": list(self.input_modalities),
            "output_modalities": list(self.output_modalities),
            "aliases": list(self.aliases),
            **fields,
        }

    def language_model_object(self) -> dict[str, object]:
        """The xAI-shaped object of ``GET /v1/language-models``."""
        return self._xai_model_object(
            prompt_text_token_price=self.prompt_price,
            cached_prompt_text_token_price=self.cached_prompt_price,
            prompt_image_token_price=self.prompt_price if self.sees_images else 0,
            completion_text_token_price=self.completion_price,
            search_price=self.search_price,
        )

    def image_model_object(self) -> dict[str, object]:
        """The xAI-shaped object of ``GET /v1/image-generation-models``."""
        return self._xai_model_object(max_prompt_length=1024, image_price=self.image_price)

    def embedding_model_object(self) -> dict[str, object]:
        """The xAI-shaped object of ``GET /v1/embedding-models``."""
        return self._xai_model_object(
            prompt_text_token_price=self.prompt_price, prompt_image_token_price=0
        )

    def video_model_object(self) -> dict[str, object]:
        """The xAI-shaped object of ``GET /v1/video-generation-models`` (no prices)."""
        return self._xai_model_object()

    def catalogue_object(self, family: str) -> dict[str, object]:
        """The object of this model in the catalogue of ``family`` ("models" for the
        OpenAI-shaped list, else the model's kind)."""
        if family == "language":
            return self.language_model_object()
        if family == "image":
            return self.image_model_object()
        if family == "embedding":
            return self.embedding_model_object()
        if family == "video":
            return self.video_model_object()
        return self.model_object()


def hash_text(text: str) -> int:
    """A hash that, unlike ``hash()``, is the same in every process (no PYTHONHASHSEED)."""
    value = 0xCBF29CE484222325
    for byte in text.encode():
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


_LANGUAGE = ("text",)
_VISION = ("text", "image")

BUILTIN_MODELS: tuple[ModelInfo, ...] = (
    ModelInfo(
        "grok-4-0709",
        ("grok-4", "grok-4-latest"),
        created=1_752_019_200,
        input_modalities=_VISION,
        prompt_price=30_000,
        cached_prompt_price=7_500,
        completion_price=150_000,
    ),
    ModelInfo(
        "grok-4-fast-reasoning",
        ("grok-4-fast", "grok-4-fast-reasoning-latest"),
        created=1_758_240_000,
        input_modalities=_VISION,
    ),
    ModelInfo(
        "grok-4-fast-non-reasoning",
        ("grok-4-fast-non-reasoning-latest",),
        created=1_758_240_000,
        input_modalities=_VISION,
    ),
    ModelInfo(
        "grok-4-1-fast-reasoning",
        ("grok-4-1-fast", "grok-4-1-fast-reasoning-latest"),
        created=1_763_510_400,
        input_modalities=_VISION,
    ),
    ModelInfo(
        "grok-4-1-fast-non-reasoning",
        ("grok-4-1-fast-non-reasoning-latest",),
        created=1_763_510_400,
        input_modalities=_VISION,
    ),
    ModelInfo(
        "grok-code-fast-1",
        ("grok-code-fast", "grok-code-fast-1-0825"),
        created=1_756_166_400,
        cached_prompt_price=2_000,
        completion_price=150_000,
    ),
    ModelInfo(
        "grok-3",
        ("grok-3-latest", "grok-3-beta"),
        created=1_743_724_800,
        prompt_price=30_000,
        cached_prompt_price=7_500,
        completion_price=150_000,
    ),
    ModelInfo(
        "grok-3-mini",
        ("grok-3-mini-latest", "grok-3-mini-beta"),
        created=1_743_724_800,
        prompt_price=3_000,
        cached_prompt_price=750,
        completion_price=5_000,
    ),
    ModelInfo(
        "grok-2-vision-1212",
        ("grok-2-vision", "grok-2-vision-latest"),
        created=1_733_961_600,
        input_modalities=_VISION,
        prompt_price=20_000,
        cached_prompt_price=20_000,
        completion_price=100_000,
    ),
    ModelInfo(
        "grok-2-image-1212",
        ("grok-2-image", "grok-2-image-latest"),
        kind="image",
        created=1_733_961_600,
        output_modalities=("image",),
        prompt_price=0,
        cached_prompt_price=0,
        completion_price=0,
        image_price=700_000_000,
        search_price=0,
    ),
    ModelInfo(
        "v1",
        ("embedding-v1",),
        kind="embedding",
        created=1_725_148_800,
        version="0.1.0",
        prompt_price=100,
        cached_prompt_price=0,
        completion_price=0,
        search_price=0,
    ),
    ModelInfo(
        "grok-imagine-video",
        ("grok-imagine-video-latest",),
        kind="video",
        created=1_743_724_800,
        input_modalities=("text", "image", "video"),
        output_modalities=("video",),
        prompt_price=0,
        cached_prompt_price=0,
        completion_price=0,
        search_price=0,
        # A real 1-second 480p video cost 500,000,000 ticks ($0.05): SPEC.md §12.
        video_price=500_000_000,
    ),
)


class Catalog:
    """Look models up by id or alias; built-ins plus the names a test adds."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        models = list(BUILTIN_MODELS)
        known = {m.id for m in models}
        models.extend(ModelInfo(name) for name in extra if name not in known)
        self.models: tuple[ModelInfo, ...] = tuple(models)
        self._by_name: dict[str, ModelInfo] = {}
        for model in self.models:
            self._by_name[model.id] = model
            for alias in model.aliases:
                self._by_name.setdefault(alias, model)

    def resolve(self, name: str) -> ModelInfo | None:
        """The model called *name* (an id or an alias), or None if unknown."""
        return self._by_name.get(name)

    @property
    def language_models(self) -> list[ModelInfo]:
        """Models served by ``/v1/language-models`` (and usable for chat)."""
        return [m for m in self.models if m.kind == "language"]

    @property
    def image_models(self) -> list[ModelInfo]:
        """Models served by ``/v1/image-generation-models``."""
        return [m for m in self.models if m.kind == "image"]

    def of_kind(self, kind: str) -> list[ModelInfo]:
        """The models of one kind ("language", "image", "embedding", "video")."""
        return [m for m in self.models if m.kind == kind]
