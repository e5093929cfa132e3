"""The Ray worker of the ray engine: an async actor that sends HTTP calls for the driver.

One `HttpWorker` per `engine.workers`, each with its own transport and Sender (the same
synth/llm code path as the local engine: the SDK's request, aiohttp, replica choice, error
classification). The driver sends it one request body at a time (`post`) after reserving the
call's worst case in the budget ledger; the worker returns the parsed reply or the fault,
its latency, the endpoint and the replicas it took out or put back (synth.llm.sender.Sent),
and the driver settles, logs, validates, caches and counts replicas out across workers. The worker
keeps no state that matters: when it dies, Ray restarts it and the driver retries the call.
The API key is read from the worker's own environment (the env var named by api_key_env),
never shipped through Ray.
"""
from __future__ import annotations

import os
import socket
from dataclasses import replace
from typing import Any

from synth.config import LLMConfig
from synth.errors import SynthError
from synth.llm.retry import CallFault
from synth.llm.sender import Sender, Sent
from synth.llm.services import Redactor
from synth.llm.transport import Transport


class HttpWorker:
    """Sends request bodies with the local engine's Sender (wrapped with ray.remote by the driver)."""

    def __init__(self, config: LLMConfig):
        self.config = config
        self.sender: Sender | None = None
        self.redact = Redactor()
        self.error = ""

    def ready(self) -> dict[str, Any]:
        """Open the transport (reads the API key here); an error comes back as text."""
        if self.sender is None and not self.error:
            try:
                self.redact.add_env(self.config.api_key_env)
                self.sender = Sender(Transport(self.config))
            except SynthError as exc:
                self.error = str(exc)
        import ray

        return {"error": self.error, "pid": os.getpid(), "host": socket.gethostname(),
                "node": ray.get_runtime_context().get_node_id()}

    async def post(self, body: dict[str, Any], avoid: str | None = None) -> Sent:
        """One HTTP attempt (Sender.send: a replica in rotation, not `avoid` when another is):
        the reply or the fault, latency, url and the replica events for the driver's call log."""
        if self.sender is None:
            info = self.ready()
            if info["error"]:
                return Sent(None, CallFault("worker_setup", info["error"], False, fatal=True), 0.0, "")
        assert self.sender is not None
        sent = await self.sender.send(body, avoid)
        if sent.fault is not None:
            sent.fault = replace(sent.fault, message=self.redact(sent.fault.message) or "")
        return sent

    async def close(self) -> None:
        if self.sender is not None:
            await self.sender.close()
