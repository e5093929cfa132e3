"""Sentence encoding on a Ray cluster (`engine.kind: ray`): Ray Data `map_batches` over the nodes.

Inside `synth.text.ray_map.on_cluster(engine)`, the texts the machine's vector store lacks (at
least `engine.cluster_min_texts` at once) go through synth.text.ray_map.map_texts with
`EncodeBatch`, a class UDF that loads the int8 encoder once per actor (exporting it on a node
that has none yet) and encodes each text of its batch alone, as the local path does
(synth.text.encoder: one text per run, so a vector is a function of its text). The driver
writes the vectors to its own store, so the vectors, and every decision read from them, equal
the local engine's (tests/text/test_ray_map.py compares them on a two-node cluster). A node
whose encoder runs elsewhere than the driver's (CUDA against CPU) stops the run naming the node:
its vectors would not be the store's bit for bit.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from synth.errors import SynthError
from synth.text.ray_map import map_texts, node_id

if TYPE_CHECKING:
    from synth.llmconfig import EngineConfig

BATCH = 64  # texts per map_batches call: about a second of one core


class EncodeBatch:
    """The Ray Data UDF: one encoder per actor; a batch's texts encoded one at a time."""

    def __init__(self, max_tokens: int | None, provider: str):
        from synth.text.encoder import load_encoder, providers

        self.node = node_id()
        if providers()[0] != provider:
            raise SynthError(f"the encoder on ray node {self.node} runs on {providers()[0]}, the driver's on "
                             f"{provider}: their vectors differ; set SYNTH_ENCODER_DEVICE alike")
        self.encoder = load_encoder()
        self.encoder.workers = 1  # one actor per CPU, each one thread
        self.max_tokens = max_tokens

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.encoder.encode([str(t) for t in batch["text"]], max_tokens=self.max_tokens)
        return {"index": batch["index"], "value": vectors, "node": np.array([self.node] * len(vectors))}


def encode_on_cluster(texts: list[str], max_tokens: int | None, engine: EngineConfig) -> np.ndarray:
    """Vectors of `texts` in order, encoded by map_batches on the cluster of `engine` (joined, or
    a local Ray started, as the ray LLM engine does)."""
    from synth.text.encoder import providers

    provider = providers()[0]
    env = {"SYNTH_ENCODER_DEVICE": "cpu"} if provider == "CPUExecutionProvider" else {}
    vectors = map_texts(texts, EncodeBatch, {"max_tokens": max_tokens, "provider": provider}, engine,
                        batch=BATCH, what="texts encoded", env=env)
    return np.stack(vectors).astype(np.float32, copy=False)
