"""The budget ledger: a hard USD cap, persisted in SQLite (run_dir/spend.sqlite).

Before each call the engine reserves its worst case (prompt tokens + max_tokens at the
configured prices); a reservation that would pass the cap is refused. After the call the
reservation is settled with the usage the server reported. The check and the reservation are
one SQL statement (one SQLite transaction), so concurrent calls, and even two processes on one
run, can never overshoot. A reservation that was never settled (the process was killed
mid-call) keeps counting at its worst case, so a resumed run continues the same budget.
The prompt side of the worst case is first a quick bound (UTF-8 bytes: no tokenizer splits a
byte), and only when that does not fit, the tokenizer count (synth.llm.tokens).

Caps: `max_usd` over all stages, plus an optional cap per stage (judge: budget.judge_max_usd).
"""
from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from synth.errors import InputError
from synth.files import connect_sqlite

EPSILON = 1e-12

_SCHEMA = """
CREATE TABLE IF NOT EXISTS totals (
  stage TEXT PRIMARY KEY, committed REAL NOT NULL DEFAULT 0, settled REAL NOT NULL DEFAULT 0,
  calls INTEGER NOT NULL DEFAULT 0, open INTEGER NOT NULL DEFAULT 0);
"""
# One statement = one atomic SQLite transaction: the cap check and the reservation cannot be
# split by another coroutine, thread or process.
_RESERVE = """
UPDATE totals SET committed = committed + :usd, calls = calls + 1, open = open + 1
WHERE stage = :stage AND (SELECT sum(committed) FROM totals) + :usd <= :max_usd + 1e-12
  AND committed + :usd <= :cap + 1e-12"""
_SETTLE = """
UPDATE totals SET committed = committed - :reserved + :actual, settled = settled + :actual,
  open = open - 1 WHERE stage = :stage"""
NO_CAP = float("inf")


@dataclass(frozen=True)
class Reservation:
    stage: str
    usd: float


def cost_usd(prompt_tokens: int, completion_tokens: int, price_in: float, price_out: float) -> float:
    """USD for a call at per-million-token prices."""
    return (prompt_tokens * price_in + completion_tokens * price_out) / 1_000_000


class BudgetLedger:
    """Per stage: committed (settled + open reservations), settled, calls, open reservations."""

    def __init__(self, path: Path, max_usd: float):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.max_usd = path, max_usd
        self._db = connect_sqlite(path, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._stages: set[str] = set()

    def reserve(self, stage: str, usd: float, stage_cap: float | None = None) -> Reservation | None:
        """Reserve `usd` for one call, or None when it would pass the run cap or the stage cap."""
        if stage not in self._stages:
            self._db.execute("INSERT OR IGNORE INTO totals(stage) VALUES (?)", (stage,))
            self._stages.add(stage)
        cursor = self._db.execute(_RESERVE, {"usd": usd, "stage": stage, "max_usd": self.max_usd,
                                             "cap": NO_CAP if stage_cap is None else stage_cap})
        return Reservation(stage, usd) if cursor.rowcount == 1 else None

    def settle(self, reservation: Reservation, actual_usd: float) -> None:
        """Replace a reservation by what the call really cost (0 when nothing was billed)."""
        self._db.execute(_SETTLE, {"reserved": reservation.usd, "actual": actual_usd,
                                   "stage": reservation.stage})

    def committed(self, stage: str | None = None) -> float:
        """Settled spend plus open reservations (what the cap is checked against)."""
        return self._sum("committed", stage)

    def spent(self, stage: str | None = None) -> float:
        """Settled spend only (what the servers reported)."""
        return self._sum("settled", stage)

    def by_stage(self) -> dict[str, dict[str, float]]:
        rows = self._db.execute("SELECT stage, committed, settled, calls, open FROM totals ORDER BY stage")
        return {stage: {"committed": c, "settled": s, "calls": n, "open": o} for stage, c, s, n, o in rows}

    def _sum(self, column: str, stage: str | None) -> float:
        if stage is None:
            return float(self._db.execute(f"SELECT coalesce(sum({column}), 0) FROM totals").fetchone()[0])
        row = self._db.execute(f"SELECT {column} FROM totals WHERE stage=?", (stage,)).fetchone()
        return float(row[0]) if row else 0.0

    def close(self) -> None:
        self._db.close()


def read_spend(path: Path) -> dict[str, float]:
    """Spend of a run dir's ledger without opening it for writing (for `synth status`)."""
    if not path.exists():
        return {"spend_usd": 0.0, "committed_usd": 0.0}
    db = connect_sqlite(path, read_only=True)
    try:
        row = db.execute("SELECT coalesce(sum(settled), 0), coalesce(sum(committed), 0) "
                         "FROM totals").fetchone()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"budget ledger unreadable ({exc})", file=str(path)) from None
    finally:
        db.close()
    return {"spend_usd": float(row[0]), "committed_usd": float(row[1])}


FREE = Reservation("", 0.0)  # calls at price 0 skip the ledger


class BudgetGate:
    """One engine's side of the ledger. A refused reservation waits while this engine still has
    calls in flight (their unused worst case comes back when they settle) and gives up, setting
    `refused`, only when nothing of its own is open: the cap is used fully, never passed."""

    def __init__(self, ledger: BudgetLedger, price_in: float, price_out: float):
        self.ledger, self.price_in, self.price_out = ledger, price_in, price_out
        self.priced = price_in > 0 or price_out > 0
        self.open = 0
        self.refused = False
        self._settled = asyncio.Event()

    async def reserve(self, stage: str, quick_usd: float, exact_usd: Callable[[], float],
                      cap: float | None) -> Reservation | None:
        """Reserve a call's worst case: first a quick, looser bound; near the cap, the exact one."""
        if not self.priced:
            return FREE
        usd, exact = quick_usd, False
        while not self.refused:
            reservation = self.ledger.reserve(stage, usd, cap)
            if reservation is not None:
                self.open += 1
                return reservation
            if not exact:
                usd, exact = min(quick_usd, exact_usd()), True
                continue
            if self.open == 0:
                break
            self._settled.clear()
            await self._settled.wait()
        self.refused = True
        return None

    def settle(self, reservation: Reservation, usage: dict[str, int] | None) -> float:
        """Settle with the reported usage (None: nothing reported, the worst case stands)."""
        if reservation is FREE:
            return 0.0
        actual = reservation.usd if usage is None else cost_usd(
            int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0)),
            self.price_in, self.price_out)
        return self._close(reservation, actual)

    def settle_fault(self, reservation: Reservation, billed: bool) -> float:
        """A failed call: nothing billed, or (timeouts, drops) maybe billed: keep the worst case."""
        if reservation is FREE:
            return 0.0
        return self._close(reservation, reservation.usd if billed else 0.0)

    def _close(self, reservation: Reservation, actual: float) -> float:
        self.ledger.settle(reservation, actual)
        self.open -= 1
        self._settled.set()
        return actual
