"""Sentence vectors for the checks: each distinct text encoded once, in one batch, cached.

The judge passes its judgments.sqlite as the cache, so a re-run encodes nothing it has seen;
`synth check` encodes each distinct question, answer and answer passage of the file once.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

from synth.text import embeddings

# The checks read each text up to 128 tokens: the length all-MiniLM-L6-v2 was fine-tuned on.
# Measured on the dev set (README): alignment AUC 0.989 against 0.988 at the model's 256, with
# the answers' encoding 2.6x shorter; answer sentences are under it anyway.
MAX_TOKENS = 128


class VectorCache(Protocol):
    """Stored embeddings by text key (judgments.sqlite keeps them for re-runs)."""

    def get_vectors(self, keys: list[str]) -> dict[str, np.ndarray]: ...

    def put_vectors(self, vectors: dict[str, np.ndarray]) -> None: ...


def embed_texts(texts: list[str], cache: VectorCache | None, progress: bool = False) -> dict[str, np.ndarray]:
    """text -> embedding, computing only what the cache does not hold (one call; with
    `progress`, a bar with ETA on stderr when there are many)."""
    keys = {t: embeddings.vector_key(t, MAX_TOKENS) for t in set(texts)}
    stored = cache.get_vectors(list(keys.values())) if cache is not None else {}
    missing = sorted((t for t, k in keys.items() if k not in stored), key=len)
    fresh = dict(zip(missing, embeddings.embed(missing, "encoding texts" if progress else None, MAX_TOKENS))) \
        if missing else {}
    if cache is not None and fresh:
        cache.put_vectors({keys[t]: v for t, v in fresh.items()})
    return {t: fresh[t] if t in fresh else stored[keys[t]] for t in keys}


def matrix(texts: list[str], vectors: dict[str, np.ndarray]) -> np.ndarray:
    """The vectors of texts as rows (float32, L2-normalised as embed() returns them)."""
    if not texts:
        return embeddings.embed([])
    return np.stack([vectors[t] for t in texts]).astype(np.float32, copy=False)
