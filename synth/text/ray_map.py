"""Texts through Ray Data `map_batches` on the run's cluster (`engine.kind: ray`, issue 19).

`on_cluster(engine)` marks a block of work (ingest, the judge, `synth check` open it) whose
per-text jobs may go to the cluster: the sentence encoding (synth.text.ray_encode) and the PII
redaction of texts the machine's stores lack (synth.ingest.ray_redact), each when at least
`engine.cluster_min_texts` texts come at once (fewer are not worth an actor start-up; the results
are the same either way). `map_texts` is their one way there: the texts become a Ray Dataset
(`ray.data.from_items`, each row its index and text) mapped by a class UDF, one instance per
actor (it loads its model once), one single-threaded actor per free CPU of the cluster (at most
one per batch), all started before the first batch. The UDF returns each row's index, value and
node; the driver puts the values back in order and writes them to its own stores.
"""
from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from synth.errors import SynthError

if TYPE_CHECKING:
    from synth.llmconfig import EngineConfig

START_S = 300  # the actor pool must be up by then (else: not enough free CPUs, a one-line error)
_CLUSTER: list[EngineConfig] = []  # set by on_cluster(): the engine whose cluster works, innermost last


@contextmanager
def on_cluster(engine: EngineConfig) -> Iterator[None]:
    """Inside, with `engine.kind` ray, enough texts at once go to its cluster (module docstring);
    with kind local nothing changes."""
    if engine.kind != "ray":
        yield
        return
    _CLUSTER.append(engine)
    try:
        yield
    finally:
        _CLUSTER.pop()


def cluster_for(count: int) -> EngineConfig | None:
    """The engine whose cluster should take `count` texts at once, or None: do them here."""
    return _CLUSTER[-1] if _CLUSTER and count >= _CLUSTER[-1].cluster_min_texts else None


def map_texts(texts: list[str], udf: type, kwargs: dict[str, Any], engine: EngineConfig, *, batch: int,
              what: str, env: dict[str, str] | None = None) -> list[Any]:
    """`udf`'s value of each text, in order: `udf(**kwargs)` once per actor, called with numpy
    batches of `batch` rows ({"index", "text"}) and answering {"index", "value", "node"}. Says on
    stderr how many nodes did `what` ("texts encoded")."""
    from synth.llm.ray_dispatch import connect_ray

    connect_ray(engine)  # first: it names the missing extra
    import ray

    data_log = logging.getLogger("ray.data")
    level, context = data_log.level, ray.data.DataContext.get_current()
    saved = context.enable_progress_bars, context.wait_for_min_actors_s
    data_log.setLevel(logging.CRITICAL)  # its plan, progress and stack traces: a failure raises, in one line
    context.enable_progress_bars = False
    context.wait_for_min_actors_s = START_S  # the whole pool up before the first batch
    try:
        values, nodes = _map(texts, udf, kwargs, batch, env or {})
    finally:
        data_log.setLevel(level)
        context.enable_progress_bars, context.wait_for_min_actors_s = saved
    print(f"{len(texts)} {what} on {len(nodes)} ray node{'s' if len(nodes) > 1 else ''}", file=sys.stderr)
    return values


def _map(texts: list[str], udf: type, kwargs: dict[str, Any], batch: int,
         env: dict[str, str]) -> tuple[list[Any], set[str]]:
    import ray
    from ray.data.exceptions import UserCodeException

    batches = -(-len(texts) // batch)
    actors, cpus = _pool(batches)
    rows = ray.data.from_items([{"index": i, "text": t} for i, t in enumerate(texts)],
                               override_num_blocks=min(batches, 4 * actors))
    mapped = rows.map_batches(udf, fn_constructor_kwargs=kwargs, batch_size=batch, batch_format="numpy",
                              num_cpus=cpus, compute=ray.data.ActorPoolStrategy(size=actors),
                              runtime_env={"env_vars": env})
    values: list[Any] = [None] * len(texts)
    done = np.zeros(len(texts), dtype=bool)
    nodes: set[str] = set()
    try:
        for out in mapped.iter_batches(batch_format="numpy", batch_size=None):
            for index, value in zip(out["index"], out["value"]):
                values[int(index)] = value
            done[out["index"]] = True
            nodes.update(str(n) for n in out["node"])
    except (ray.exceptions.RayError, UserCodeException) as exc:
        raise SynthError(f"work on the Ray cluster failed: {_reason(exc)}") from None
    if not done.all():
        raise SynthError(f"the Ray cluster returned {int(done.sum())} of {len(texts)} results")
    return values, nodes


def node_id() -> str:
    """The id of the Ray node this runs on (short: enough to tell nodes apart)."""
    import ray

    return str(ray.get_runtime_context().get_node_id())[:12]


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
    raise SynthError("no free CPU on the Ray cluster to work on texts (engine.kind ray); "
                     "free some, or set engine.kind=local")


def _reason(exc: BaseException) -> str:
    """What went wrong, in one line: the message of a synth error raised on a worker (Ray quotes
    its traceback in the error's text), else the first line of the outermost message."""
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or getattr(cause, "cause", None)
    texts = [_ANSI.sub("", str(e)) for e in chain]
    for text in texts:
        for line in reversed(text.splitlines()):
            found = _SYNTH_ERROR.match(line)
            if found:
                return found.group(1)[:300]
    lines = [line.strip() for text in texts for line in text.splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__)[:300]


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SYNTH_ERROR = re.compile(r"\s*synth\.errors\.\w+: (.+)")
