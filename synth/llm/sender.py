"""One HTTP attempt on a replica in rotation: what the local engine and each Ray worker send.

    sender = Sender(Transport(config))
    sent = await sender.send(body, avoid=url_that_just_failed)   # -> Sent
    sent.reply or sent.fault; sent.events: the replicas this attempt took out or put back

The replica's breaker hears how the attempt went before the replica is released; a breaker
event comes back with the attempt (status replica_out / replica_back, the fault, the url) so the
caller logs it with the item, whichever process sent it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import openai

from synth.llm.replies import Reply, parse_reply
from synth.llm.retry import CallFault, classify
from synth.llm.transport import Transport

ReplicaEvent = tuple[str, str | None, str]  # (replica_out or replica_back, fault reason, url)


@dataclass
class Sent:
    """One attempt: the reply, or the fault; its latency and url; the breaker events it caused."""

    reply: Reply | None
    fault: CallFault | None
    latency: float
    url: str
    events: list[ReplicaEvent] = field(default_factory=list)


class Sender:
    def __init__(self, transport: Transport):
        self.transport = transport

    async def send(self, body: dict[str, Any], avoid: str | None = None) -> Sent:
        """POST one request body to a replica in rotation (not `avoid` while another is in it)."""
        started, events = time.perf_counter(), []
        async with self.transport.endpoint(avoid) as endpoint:
            url = endpoint.url
            try:
                raw = await endpoint.post(body)
            except openai.APIError as exc:
                fault = classify(exc)
                self._record(url, fault.reason, events)
                return Sent(None, fault, time.perf_counter() - started, url, events)
            self._record(url, None, events)
        latency = time.perf_counter() - started
        try:
            reply = parse_reply(raw)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            fault = CallFault("bad_response", f"response is not a chat completion: {exc}"[:300], True)
            return Sent(None, fault, latency, url, events)
        reply.endpoint, reply.latency = url, latency
        return Sent(reply, None, latency, url, events)

    def _record(self, url: str, fault: str | None, events: list[ReplicaEvent]) -> None:
        event = self.transport.record(url, fault)
        if event is not None:
            events.append((f"replica_{event}", fault, url))

    def taken_out(self) -> dict[str, int]:
        """url -> how often its breaker took it out of rotation."""
        return self.transport.taken_out()

    async def close(self) -> None:
        await self.transport.close()
