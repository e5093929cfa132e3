"""A circuit breaker per replica: a replica that keeps failing leaves the rotation.

Replica faults are refused or dropped connections, timeouts and 5xx answers. After THRESHOLD
of them in a row a replica is taken out (open) for a cooldown (COOLDOWN_S, doubling on every
failed probe up to MAX_COOLDOWN_S). When the cooldown is over, the next pick sends it one
request as a probe (half-open); an answer puts it back in the rotation, a fault takes it out
again. Any answer (even a 4xx or an invalid JSON) counts as the replica answering. With a
single endpoint there is no rotation, and nothing is taken out: the engine's backoff applies.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

REPLICA_FAULTS = frozenset({"connection", "timeout", "http_5xx"})
THRESHOLD = 3
COOLDOWN_S = 1.0
MAX_COOLDOWN_S = 30.0

Event = Literal["out", "back"] | None


@dataclass
class Breaker:
    url: str
    state: Literal["closed", "open", "half_open"] = "closed"
    failures: int = 0  # replica faults in a row
    cooldown_s: float = 0.0
    open_until: float = 0.0
    trips: int = 0  # how often it was taken out
    reasons: list[str] = field(default_factory=list)  # why, each time

    def closed(self) -> bool:
        return self.state == "closed"

    def probe_due(self, now: float) -> bool:
        return self.state == "open" and now >= self.open_until

    def start_probe(self) -> None:
        self.state = "half_open"

    def record(self, fault: str | None, now: float | None = None) -> Event:
        """One answer (fault None or not a replica fault) or one replica fault; what changed."""
        now = time.monotonic() if now is None else now
        if fault not in REPLICA_FAULTS:
            back = self.state != "closed"
            self.state, self.failures, self.cooldown_s = "closed", 0, 0.0
            return "back" if back else None
        self.failures += 1
        if self.state == "half_open":
            return self._trip(fault, now, min(MAX_COOLDOWN_S, max(COOLDOWN_S, 2 * self.cooldown_s)))
        if self.state == "closed" and self.failures >= THRESHOLD:
            return self._trip(fault, now, COOLDOWN_S)
        return None

    def abandon_probe(self) -> None:
        """A probe that ended without an answer or fault (cancelled): probe again later."""
        if self.state == "half_open":
            self.state = "open"

    def _trip(self, fault: str, now: float, cooldown: float) -> Event:
        self.state, self.cooldown_s, self.open_until = "open", cooldown, now + cooldown
        self.trips += 1
        self.reasons.append(fault)
        return "out"


def pick(breakers: list[Breaker], in_flight: list[int], turn: int, avoid: str | None,
         now: float) -> tuple[int, bool]:
    """(index of the endpoint for the next request, whether it is a probe).

    Fewest requests in flight among the replicas in rotation (round robin among ties), not
    the one that just failed this item when another is in rotation; a replica whose cooldown
    is over is probed first; with every replica out, the one whose cooldown ends first."""
    n = len(breakers)
    for i, breaker in enumerate(breakers):
        if breaker.probe_due(now) and breaker.url != avoid:
            return i, True
    closed = [i for i in range(n) if breakers[i].closed()]
    preferred = [i for i in closed if breakers[i].url != avoid] or closed
    if preferred:
        return min(preferred, key=lambda i: (in_flight[i], (i - turn) % n)), False
    return min(range(n), key=lambda i: breakers[i].open_until), False
