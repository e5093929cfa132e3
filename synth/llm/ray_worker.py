"""The Ray worker of the ray engine: an async actor that sends HTTP calls for the driver.

One `HttpWorker` per `engine.workers`, each with its own LLMEngine transport (the same
synth/llm code path as the local engine: the SDK's request, aiohttp, replica choice, error
classification). The driver sends it one request body at a time (`post`) after reserving the
call's worst case in the budget ledger; the worker returns the parsed reply or the fault,
its latency and the endpoint, and the driver settles, logs, validates and caches. The worker
keeps no state that matters: when it dies, Ray restarts it and the driver retries the call.
The API key is read from the worker's own environment (the env var named by api_key_env),
never shipped through Ray.
"""
from __future__ import annotations

import os
import socket
from dataclasses import replace
from typing import Any

from synth.config import BudgetConfig, LLMConfig
from synth.errors import SynthError
from synth.llm.engine import LLMEngine
from synth.llm.replies import Reply
from synth.llm.retry import CallFault
from synth.llm.services import Redactor

PostResult = tuple[Reply | None, CallFault | None, float, str, list[tuple[str, str | None, str]]]


class _NoBooks:
    """What an LLMEngine needs from LLMServices in a worker: a redactor (the books, prices and
    caps are the driver's)."""

    def __init__(self) -> None:
        self.redact = Redactor()
        self.ledger = None
        self.budget = BudgetConfig(max_usd=None)  # no cap to price against: the driver's job


class HttpWorker:
    """Sends request bodies with LLMEngine's transport (wrapped with ray.remote by the driver)."""

    def __init__(self, config: LLMConfig):
        self.config = config
        self.engine: LLMEngine | None = None
        self.error = ""

    def ready(self) -> dict[str, Any]:
        """Open the transport (reads the API key here); an error comes back as text."""
        if self.engine is None and not self.error:
            try:
                self.engine = LLMEngine(self.config, _NoBooks(), connect=True)  # type: ignore[arg-type]
            except SynthError as exc:
                self.error = str(exc)
        import ray

        return {"error": self.error, "pid": os.getpid(), "host": socket.gethostname(),
                "node": ray.get_runtime_context().get_node_id()}

    async def post(self, body: dict[str, Any], avoid: str | None = None) -> PostResult:
        """One HTTP attempt (LLMEngine._post: a replica in rotation, not `avoid` when another is):
        (reply or None, fault or None, latency, url, replica events for the driver's call log)."""
        if self.engine is None:
            info = self.ready()
            if info["error"]:
                return None, CallFault("worker_setup", info["error"], False, fatal=True), 0.0, "", []
        assert self.engine is not None
        reply, fault, latency, url = await self.engine._post(body, avoid)
        if fault is not None:
            fault = replace(fault, message=self.engine.services.redact(fault.message) or "")
        events, self.engine._replica_events = self.engine._replica_events, []
        return reply, fault, latency, url, events

    async def close(self) -> None:
        if self.engine is not None and self.engine.transport is not None:
            await self.engine.transport.close()
