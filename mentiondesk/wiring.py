"""What joins the sibling packages: objects of one handed to another, never imported across."""

from __future__ import annotations

from core.settings import Settings, get_settings
from desk.services.complaints import Embedder


def model_embedder(settings: Settings | None = None) -> Embedder | None:
    """The built-in model's encoder for the digest's complaint clusters (the same embeddings the
    negativity head reads), or None when another model is configured or it cannot be loaded."""
    from sentiment.model import E5HeadModel, load_model

    try:
        model = load_model(settings or get_settings())
    except (OSError, ValueError):
        return None
    if not isinstance(model, E5HeadModel):
        return None
    encoder = model.encoder
    return lambda texts: encoder.embed(list(texts))
