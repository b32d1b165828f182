"""One module per API noun; reached through ``AsyncGrok`` attributes."""

__all__ = ["LAZY_RESOURCES"]

#: The resources ``AsyncGrok`` makes on first use (importing them all up front would double
#: ``import grok_async`` for programs that only chat): attribute -> (module, class).
LAZY_RESOURCES: dict[str, tuple[str, str]] = {
    "responses": (".resources.responses", "Responses"),
    "models": (".resources.models", "Models"),
    "language_models": (".resources.models", "LanguageModels"),
    "image_generation_models": (".resources.models", "ImageGenerationModels"),
    "images": (".resources.images", "Images"),
    "embeddings": (".resources.embeddings", "Embeddings"),
    "embedding_models": (".resources.models", "EmbeddingModels"),
    "documents": (".resources.documents", "Documents"),
    "videos": (".resources.videos", "Videos"),
    "video_generation_models": (".resources.models", "VideoGenerationModels"),
    "audio": (".resources.audio", "Audio"),
    "files": (".resources.files", "Files"),
    "batches": (".resources.batches", "Batches"),
}
