"""The ray engine: the driver keeps the books, Ray workers send the HTTP calls.

`RayEngine` is an LLMEngine whose one HTTP attempt (`_send`) runs on a pool of Ray actors
(synth.llm.ray_worker.HttpWorker); everything else stays on the driver, in the same code as
the local engine: the response cache (hits never leave the driver), the request body and its
cache key, the budget reservation before each attempt and its settlement after, validation,
re-asks, retries with backoff, the call log. So the same config and seeds give the same
requests, cache keys and pairs as the local engine, and the cap holds across the cluster
(one ledger, one authority: the driver).

In flight: `engine.workers` x the endpoint's `concurrency` (concurrency is per worker).
A worker that dies mid-call: the attempt counts as a `worker_lost` fault that may have been
billed (its worst case stays reserved) and is retried by the engine on a restarted worker
(Ray restarts actors, max_restarts); answers already returned are saved and never sent again.
Any other Ray error on a call is a `ray_error` fault naming it, retried the same way (never a
traceback). Each worker has its own replica breakers; the replicas they take out come back with
each attempt, so the call log and `replicas_out()` name them across workers.
Ray's own task retries are off for these calls: a resend the ledger did not reserve for could
pass the cap. The workers of an endpoint stay up for the next stage of the same process
(judge after generate, the revise loop inside judge) and stop with it.
"""
from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any

from synth.config import EngineConfig, LLMConfig
from synth.errors import ConfigError, LLMError
from synth.llm.engine import LLMEngine
from synth.llm.ray_worker import HttpWorker
from synth.llm.retry import CallFault
from synth.llm.sender import Sent
from synth.llm.services import LLMServices

MAX_RESTARTS = 8  # per worker actor
REVIVE_TRIES, REVIVE_WAIT_S = 600, 0.2  # a lost worker is polled until Ray has restarted it
LOST = "worker_lost"
RAY_ERROR = "ray_error"  # any other Ray error on a call (task error, object lost, OOM, ...)


def connect_ray(engine: EngineConfig) -> bool:
    """Join the configured cluster, or start a local Ray (kept for the process: the next stage
    reuses it; Ray stops it at exit). True when this call connected."""
    try:
        import ray
    except ImportError:
        raise ConfigError("engine.kind ray needs Ray on this machine: pip install -e '.[ray]'",
                          key="engine.kind") from None
    if ray.is_initialized():
        return False
    options: dict[str, Any] = {"log_to_driver": False, "address": engine.address or "local"}
    if not engine.address:  # "local": always a new local Ray, never a stale one found in /tmp/ray
        options["include_dashboard"] = False
    try:
        ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ConfigError(f"cannot connect to Ray at {engine.address or '(local)'}: {exc}",
                          key="engine.address") from None
    return True


@dataclass
class Workers:
    """Started HttpWorker actors and what they said when ready (pid, node)."""

    handles: list[Any]
    info: list[dict[str, Any]]
    users: int = 0


# Workers by endpoint: the next stage of this process (judge after generate, revise inside
# judge) reuses them instead of starting new worker processes; idle ones of another endpoint
# are stopped when a new set starts.
_WORKERS: dict[str, Workers] = {}


def _key(llm: LLMConfig, engine: EngineConfig) -> str:
    """What the workers' transport depends on (not sampling, prices or retries: the driver's)."""
    transport = llm.model_dump(include={"provider", "base_url", "api_key_env", "timeout_s",
                                        "concurrency", "transport"})
    return json.dumps([transport, engine.address, engine.workers, engine.worker_cpus], sort_keys=True)


def acquire_workers(llm: LLMConfig, engine: EngineConfig) -> Workers:
    key = _key(llm, engine)
    workers = _WORKERS.get(key)
    if workers is None:
        for other in [k for k, w in _WORKERS.items() if w.users == 0]:
            _kill(_WORKERS.pop(other).handles)
        workers = _WORKERS[key] = _start(llm, engine)
    workers.users += 1
    return workers


def release_workers(workers: Workers) -> None:
    """Done with them for now: they stay for the next stage (Ray stops them at exit)."""
    workers.users -= 1


def _start(llm: LLMConfig, engine: EngineConfig) -> Workers:
    connect_ray(engine)  # first: it names the missing extra
    import ray

    actor = ray.remote(HttpWorker).options(
        num_cpus=engine.worker_cpus, max_restarts=MAX_RESTARTS, max_task_retries=0,
        max_concurrency=llm.concurrency + 4, scheduling_strategy="SPREAD")
    handles = [actor.remote(llm) for _ in range(engine.workers)]
    try:
        infos = ray.get([a.ready.remote() for a in handles])
    except ray.exceptions.RayError as exc:
        _kill(handles)
        raise LLMError(f"ray workers did not start: {str(exc).splitlines()[0][:300]}") from None
    errors = sorted({i["error"] for i in infos if i["error"]})
    if errors:
        _kill(handles)
        raise ConfigError(f"ray worker cannot open its endpoint: {errors[0]}", key="engine")
    nodes = len({info["node"] for info in infos})
    print(f"{len(infos)} ray workers on {nodes} node{'s' if nodes > 1 else ''}", file=sys.stderr)
    return Workers(handles, infos)


def _kill(handles: list[Any]) -> None:
    import ray

    for handle in handles:
        ray.kill(handle, no_restart=True)


class WorkerPool:
    """One engine's view of its workers: each attempt goes to the live one with the fewest in
    flight; a lost one is left alone until Ray has restarted it."""

    def __init__(self, llm: LLMConfig, engine: EngineConfig):
        self.workers = acquire_workers(llm, engine)
        self.actors, self.info = self.workers.handles, self.workers.info
        self.in_flight = [0] * len(self.actors)
        self.up = [True] * len(self.actors)  # taking calls
        self.alive = [True] * len(self.actors)  # False: Ray could not restart it
        self._back = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._turn = 0
        self._closed = False

    async def post(self, body: dict[str, Any], avoid: str | None) -> Sent:
        """One attempt on a worker. A worker lost mid-call is a `worker_lost` fault; any other
        Ray error a `ray_error` fault naming it (both retried, both may have been billed)."""
        import ray

        pick = await self._pick()
        self.in_flight[pick] += 1
        try:
            return await self.actors[pick].post.remote(body, avoid)
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError) as exc:
            self._lost(pick)
            text = f"ray worker {pick} was lost mid-call ({type(exc).__name__}); Ray restarts it"
            return Sent(None, CallFault(LOST, text, True, billed=True), 0.0, f"ray-worker-{pick}")
        except ray.exceptions.RayError as exc:
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            text = f"ray worker {pick} failed the call ({type(exc).__name__}: {first})"
            return Sent(None, CallFault(RAY_ERROR, text, True, billed=True), 0.0, f"ray-worker-{pick}")
        finally:
            self.in_flight[pick] -= 1

    async def _pick(self) -> int:
        """The live worker with the fewest calls in flight (round robin among ties)."""
        while not any(self.up):
            if not any(self.alive):
                raise LLMError(f"every ray worker was lost and could not be restarted "
                               f"(max_restarts={MAX_RESTARTS})")
            self._back.clear()
            await self._back.wait()
        self._turn += 1
        n = len(self.actors)
        live = [i for i in range(n) if self.up[i]]
        return min(live, key=lambda i: (self.in_flight[i], (i - self._turn) % n))

    def _lost(self, index: int) -> None:
        """Stop sending to a lost worker until Ray has restarted it."""
        if self.up[index]:
            self.up[index] = False
            task = asyncio.get_running_loop().create_task(self._revive(index))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _revive(self, index: int) -> None:
        import ray

        for _ in range(REVIVE_TRIES):
            try:
                await self.actors[index].ready.remote()
            except ray.exceptions.RayError:  # not restarted yet (or not reachable): poll again
                await asyncio.sleep(REVIVE_WAIT_S)
                continue
            self.up[index] = True
            break
        else:
            self.alive[index] = False
        self._back.set()

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if not self._closed:
            self._closed = True
            release_workers(self.workers)


class RayEngine(LLMEngine):
    """LLMEngine with its HTTP attempts on Ray workers (see the module docstring)."""

    def __init__(self, config: LLMConfig, services: LLMServices, engine: EngineConfig, **kwargs: Any):
        wide = config.model_copy(update={"concurrency": config.concurrency * engine.workers})
        super().__init__(wide, services, connect=False, **kwargs)
        self.pool = WorkerPool(config, engine)
        self.taken_out: Counter[str] = Counter()  # replica url -> times out, on any worker

    async def _send(self, body: dict[str, Any], avoid: str | None = None) -> Sent:
        """One HTTP attempt on a worker (it picks the replica, not `avoid` when it can); its
        replicas' breaker events come back with it (logged with the item, counted here)."""
        sent = await self.pool.post(body, avoid)
        self.taken_out.update(url for status, _, url in sent.events if status == "replica_out")
        return sent

    def replicas_out(self) -> dict[str, int]:
        """url -> how often a worker's breaker took it out of rotation (every worker's)."""
        return dict(self.taken_out)

    async def aclose(self) -> None:
        await super().aclose()
        self.pool.close()
