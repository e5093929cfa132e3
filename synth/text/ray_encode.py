"""Sentence encoding on a Ray cluster (`engine.kind: ray`): Ray Data `map_batches` over the nodes.

Inside `synth.text.embeddings.on_cluster(engine)` (ingest, judge and `synth check` open it when
the run's engine kind is ray), the texts the machine's vector store lacks become a Ray Dataset
(`ray.data.from_items`) mapped by `EncodeBatch`, a class UDF that loads the int8 encoder once per
actor (exporting it on a node that has none yet) and encodes each text of its batch alone, as
the local path does (synth.text.encoder: one text per run, so a vector is a function of its
text). The actor pool has one single-threaded actor per free CPU of the cluster (at most one per
batch), all started before the first batch. The driver
collects the vectors by row index and writes them to its own store, so the vectors, and every
decision read from them, equal the local engine's (tests/text/test_ray_encode.py compares them
on a two-node cluster). A worker whose encoder runs elsewhere than the driver's (CUDA against CPU)
stops the run naming its node: its vectors would not be the store's bit for bit.

Fewer than `engine.encode_min_texts` new texts at once (default 256) are encoded on the driver:
a Ray Data pass costs seconds to start its actors, and the vectors are the same either way.
"""
from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from synth.errors import SynthError

if TYPE_CHECKING:
    from synth.llmconfig import EngineConfig

BATCH = 64  # texts per map_batches call: about a second of one core
START_S = 300  # the actor pool must be up by then (else: not enough free CPUs, a one-line error)


class EncodeBatch:
    """The Ray Data UDF: one encoder per actor; a batch's texts encoded one at a time."""

    def __init__(self, max_tokens: int | None, provider: str):
        import ray

        from synth.text.encoder import load_encoder, providers

        node = ray.get_runtime_context().get_node_id()[:12]
        if providers()[0] != provider:
            raise SynthError(f"the encoder on ray node {node} runs on {providers()[0]}, the driver's on "
                             f"{provider}: their vectors differ; set SYNTH_ENCODER_DEVICE alike")
        self.encoder = load_encoder()
        self.encoder.workers = 1  # one actor per CPU, each one thread
        self.max_tokens, self.node = max_tokens, node

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.encoder.encode([str(t) for t in batch["text"]], max_tokens=self.max_tokens)
        return {"index": batch["index"], "vector": vectors, "node": np.array([self.node] * len(vectors))}


def encode_on_cluster(texts: list[str], max_tokens: int | None, engine: EngineConfig) -> np.ndarray:
    """Vectors of `texts` in order, encoded by map_batches on the cluster of `engine` (joined, or
    a local Ray started, as the ray LLM engine does); says on stderr how many nodes encoded."""
    import ray

    from synth.llm.ray_dispatch import connect_ray

    connect_ray(engine)
    data_log = logging.getLogger("ray.data")
    level, context = data_log.level, ray.data.DataContext.get_current()
    saved = context.enable_progress_bars, context.wait_for_min_actors_s
    data_log.setLevel(logging.ERROR)  # its plan and progress notes; a failure raises
    context.enable_progress_bars = False
    context.wait_for_min_actors_s = START_S  # the whole pool up before the first batch
    try:
        vectors, nodes = _map(texts, max_tokens)
    finally:
        data_log.setLevel(level)
        context.enable_progress_bars, context.wait_for_min_actors_s = saved
    print(f"{len(texts)} texts encoded on {len(nodes)} ray node{'s' if len(nodes) > 1 else ''}", file=sys.stderr)
    return vectors


def _map(texts: list[str], max_tokens: int | None) -> tuple[np.ndarray, set[str]]:
    """(vectors in order, the nodes that encoded) through one map_batches pass."""
    import ray
    from ray.data.exceptions import UserCodeException

    from synth.text.encoder import providers

    batches = -(-len(texts) // BATCH)
    actors, cpus = _pool(batches)
    provider = providers()[0]
    env = {"SYNTH_ENCODER_DEVICE": "cpu"} if provider == "CPUExecutionProvider" else {}
    rows = ray.data.from_items([{"index": i, "text": t} for i, t in enumerate(texts)],
                               override_num_blocks=min(batches, 4 * actors))
    mapped = rows.map_batches(EncodeBatch, fn_constructor_kwargs={"max_tokens": max_tokens, "provider": provider},
                              batch_size=BATCH, batch_format="numpy", num_cpus=cpus,
                              compute=ray.data.ActorPoolStrategy(size=actors), runtime_env={"env_vars": env})
    vectors: np.ndarray | None = None
    done = np.zeros(len(texts), dtype=bool)
    nodes: set[str] = set()
    try:
        for batch in mapped.iter_batches(batch_format="numpy", batch_size=None):
            if vectors is None:
                vectors = np.zeros((len(texts), batch["vector"].shape[1]), dtype=np.float32)
            vectors[batch["index"]] = batch["vector"]
            done[batch["index"]] = True
            nodes.update(str(n) for n in batch["node"])
    except (ray.exceptions.RayError, UserCodeException) as exc:
        raise SynthError(f"encoding on the Ray cluster failed: {_first_line(exc)}") from None
    if vectors is None or not done.all():
        raise SynthError(f"encoding on the Ray cluster returned {int(done.sum())} of {len(texts)} vectors")
    return vectors, nodes


def _pool(batches: int) -> tuple[int, float]:
    """(actors, CPUs per actor): one single-threaded actor per free CPU of the cluster, at most
    one per batch; a fraction of a CPU for one actor when less than one is free (the LLM workers
    hold some)."""
    import ray

    free = float(ray.available_resources().get("CPU", 0.0))
    if free >= 1:
        return max(1, min(int(free), batches)), 1.0
    if free > 0:
        return 1, free
    raise SynthError("no free CPU on the Ray cluster to encode texts on (engine.kind ray); "
                     "free some, or set engine.kind=local")


def _first_line(exc: BaseException) -> str:
    """The root cause's message in one line: a SynthError raised on a worker keeps its words."""
    cause: Any = exc
    while getattr(cause, "cause", None) is not None or cause.__cause__ is not None:
        cause = getattr(cause, "cause", None) or cause.__cause__
    text = str(cause).strip().splitlines()
    return (text[-1] if text else type(cause).__name__)[:300]
