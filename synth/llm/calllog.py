"""The call log: one row per LLM call attempt in run_dir/calls.sqlite (WAL).

Columns: at, stage, item_id, request_hash, provider, model, endpoint, attempt (the item's HTTP
attempt number, 1-based), status, reason, error, prompt_tokens, completion_tokens, cost_usd,
latency_s, cached, seed (the seed the attempt sent: re-asks send their own).
status: ok (answer validated), invalid (answer failed validation: re-asked), truncated
(finish_reason length), refusal, error (HTTP or transport error), cached (answered from the
cache, no call), budget (refused by the budget cap, not sent), offline (offline provider, no
call), replica_out / replica_back (a replica's circuit breaker took it out of rotation, reason:
the fault, or put it back; not a request), overshoot (the answer's reported usage passed the
budget reservation of its attempt; not a request). `read_reask_outcomes` counts what re-asks fix.
Rows are written in small batches (every BATCH rows or FLUSH_S seconds, and on close) so
logging costs microseconds per call; a kill -9 can lose only the last FLUSH_S of rows.
Errors are scrubbed of secrets before they are stored.
"""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from synth.errors import InputError
from synth.files import connect_sqlite
from synth.llm.flush_timer import FlushTimer

BATCH = 256
FLUSH_S = 0.2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
  id INTEGER PRIMARY KEY, at REAL NOT NULL, stage TEXT NOT NULL, item_id TEXT,
  request_hash TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL, endpoint TEXT,
  attempt INTEGER NOT NULL, status TEXT NOT NULL, reason TEXT, error TEXT,
  prompt_tokens INTEGER NOT NULL DEFAULT 0, completion_tokens INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0, latency_s REAL NOT NULL DEFAULT 0,
  cached INTEGER NOT NULL DEFAULT 0, seed INTEGER);
CREATE INDEX IF NOT EXISTS calls_by_hash ON calls(request_hash);
"""
_INSERT = ("INSERT INTO calls(at, stage, item_id, request_hash, provider, model, endpoint, attempt,"
           " status, reason, error, prompt_tokens, completion_tokens, cost_usd, latency_s, cached, seed)"
           " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
# statuses that are not a request sent to a server
NOT_SENT = ("cached", "budget", "offline", "cache_miss", "replica_out", "replica_back", "overshoot")
ANSWERS = ("ok", "invalid", "truncated", "refusal")  # statuses of an attempt the model answered


class CallLog:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = connect_sqlite(path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        if "seed" not in {row[1] for row in self._db.execute("PRAGMA table_info(calls)")}:
            self._db.execute("ALTER TABLE calls ADD COLUMN seed INTEGER")  # a log made before it
        self._rows: list[tuple[Any, ...]] = []
        self._flush_timer = FlushTimer(self.flush, BATCH, FLUSH_S)

    def add(self, *, stage: str, item_id: str, request_hash: str, provider: str, model: str,
            status: str, endpoint: str | None = None, attempt: int = 0, reason: str | None = None,
            error: str | None = None, prompt_tokens: int = 0, completion_tokens: int = 0,
            cost_usd: float = 0.0, latency_s: float = 0.0, seed: int | None = None) -> None:
        self._rows.append((time.time(), stage, item_id, request_hash, provider, model, endpoint,
                           attempt, status, reason, error, prompt_tokens, completion_tokens,
                           cost_usd, latency_s, int(status == "cached"), seed))
        self._flush_timer.pending(len(self._rows))

    def flush(self) -> None:
        self._flush_timer.cancel()
        if not self._rows:
            return
        rows, self._rows = self._rows, []
        with self._db:
            self._db.executemany(_INSERT, rows)

    def close(self) -> None:
        self.flush()
        self._db.close()


def read_call_counts(path: Path) -> dict[str, Any]:
    """Counts for `synth status`: calls sent to a server, cached answers, and by status."""
    counts: dict[str, Any] = {"calls": 0, "cached": 0, "by_status": {}}
    if not path.exists():
        return counts
    db = connect_sqlite(path, read_only=True)
    try:
        for status, n in db.execute("SELECT status, count(*) FROM calls GROUP BY status"):
            counts["by_status"][status] = n
            if status == "cached":
                counts["cached"] += n
            elif status not in NOT_SENT:
                counts["calls"] += n
    except sqlite3.DatabaseError as exc:
        raise InputError(f"call log unreadable ({exc})", file=str(path)) from None
    finally:
        db.close()
    return counts


def read_item_costs(path: Path, stage: str) -> dict[str, float]:
    """item id -> USD the call log recorded for it in one stage (e.g. generate:<set id>)."""
    if not path.exists():
        return {}
    db = connect_sqlite(path, read_only=True)
    try:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'calls'").fetchone():
            return {}
        rows = db.execute("SELECT item_id, sum(cost_usd) FROM calls WHERE stage = ? GROUP BY item_id",
                          (stage,))
        return {str(item): float(usd) for item, usd in rows}
    except sqlite3.DatabaseError as exc:
        raise InputError(f"call log unreadable ({exc})", file=str(path)) from None
    finally:
        db.close()


def read_reask_outcomes(path: Path, stage_prefix: str = "") -> dict[str, int]:
    """What re-asks did, from the answered attempts of each item (request hash) in stages
    starting with `stage_prefix`: `items` answered at least once, `first_invalid` whose first
    answer was not valid (invalid, truncated or refusal), `fixed_by_reask` of those that a
    later answer made valid, `same_seed_reasks` re-asks that sent the seed of the answer before
    them (0 since re-asks vary the seed). Fix rate: fixed_by_reask / first_invalid."""
    out = {"items": 0, "first_invalid": 0, "fixed_by_reask": 0, "same_seed_reasks": 0}
    if not path.exists():
        return out
    db = connect_sqlite(path, read_only=True)
    try:
        rows = db.execute(f"SELECT request_hash, status, seed FROM calls WHERE status IN "
                          f"({','.join('?' * len(ANSWERS))}) AND stage LIKE ? ORDER BY id",
                          (*ANSWERS, stage_prefix.replace("%", "") + "%")).fetchall()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"call log unreadable ({exc})", file=str(path)) from None
    finally:
        db.close()
    answers: dict[str, list[tuple[str, int | None]]] = {}
    for key, status, seed in rows:
        answers.setdefault(key, []).append((status, seed))
    for seq in answers.values():
        out["items"] += 1
        out["same_seed_reasks"] += sum(1 for a, b in zip(seq, seq[1:]) if a[1] is not None and a[1] == b[1])
        if seq[0][0] != "ok":
            out["first_invalid"] += 1
            out["fixed_by_reask"] += any(status == "ok" for status, _ in seq[1:])
    return out
