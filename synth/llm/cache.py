"""The response cache (diskcache in run_dir/cache) and the request hash that keys it.

The key is a hash of the whole request: provider, base_url(s), model, messages, the
response schema and structured-output mode, sampling parameters (temperature, max_tokens,
seed, extra_body) and the template hash. Changing one of these changes only the keys of the
requests it touches. The API key is never part of a key or a value.
Only validated answers are stored (value: the answer JSON text plus the usage it cost).
Writes are batched into one diskcache transaction (every BATCH puts, FLUSH_S, and on close).
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import diskcache

from synth.errors import InputError
from synth.llm.flush_timer import FlushTimer

BATCH = 128
FLUSH_S = 0.2


def request_hash(parts: dict[str, Any], messages: list[dict[str, str]] | None = None) -> str:
    """A stable hash of a request description (JSON, sorted keys) and its chat messages."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8"))
    for message in messages or ():
        for key in sorted(message):  # role, content: length-prefixed, so no two lists collide
            value = str(message[key])
            digest.update(f"\x1e{key}\x1f{len(value)}\x1f".encode())
            digest.update(value.encode("utf-8"))
    return digest.hexdigest()[:32]


class ResponseCache:
    def __init__(self, directory: Path):
        self.directory = directory
        # no eviction: an answer dropped from the cache would be paid for again on resume
        # (cull_limit=0: no expiry/eviction scan on every set)
        try:
            self._cache = diskcache.Cache(str(directory), eviction_policy="none", cull_limit=0)
        except sqlite3.DatabaseError as exc:
            raise InputError(f"unusable response cache ({exc}); move it aside to start it afresh "
                             "(cached answers in it would be paid for again)", file=str(directory)) from None
        self._pending: dict[str, str] = {}
        self._flush_timer = FlushTimer(self.flush, BATCH, FLUSH_S)

    def get(self, key: str) -> dict[str, Any] | None:
        text = self._pending.get(key)
        if text is None:
            text = self._cache.get(key)
        return json.loads(text) if isinstance(text, str) else None

    def put(self, key: str, content: str, usage: dict[str, int]) -> None:
        self._pending[key] = json.dumps({"content": content, "usage": usage})
        self._flush_timer.pending(len(self._pending))

    def flush(self) -> None:
        self._flush_timer.cancel()
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        with self._cache.transact():
            for key, value in pending.items():
                self._cache.set(key, value)

    def __len__(self) -> int:
        return len(self._cache) + len(self._pending)

    def close(self) -> None:
        self.flush()
        self._cache.close()
