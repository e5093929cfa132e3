"""The budget ledger: a hard USD cap and a hard token cap, persisted in SQLite (run_dir/spend.sqlite).

Before each call the engine reserves its worst case: prompt tokens + max_tokens, and their
price; a reservation that would pass a cap is refused. After the call the reservation is
settled with the usage the server reported. The check and the reservation are one SQL
statement (one SQLite transaction), so concurrent calls, and even two processes on one run,
can never overshoot. A reservation that was never settled (the process was killed mid-call)
keeps counting at its worst case, so a resumed run continues the same budget.
The prompt side of the worst case is a bound for any tokenizer: UTF-8 bytes (no tokenizer splits
a byte), or, when that does not fit and the model's own tokenizer is configured, its exact
count (synth.llm.tokens). A usage without token counts settles at the worst case; a usage above
the reservation settles as reported and is logged (call log status `overshoot`).

Caps: `max_usd` over all stages (None: no dollar cap), `max_tokens` (input + output tokens of
every stage, generator and judge together; None: no token cap; works for a local vLLM server
that has no price), plus an optional USD cap per stage (judge: budget.judge_max_usd).
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
  calls INTEGER NOT NULL DEFAULT 0, open INTEGER NOT NULL DEFAULT 0,
  committed_tokens INTEGER NOT NULL DEFAULT 0, settled_tokens INTEGER NOT NULL DEFAULT 0);
"""
_TOKEN_COLUMNS = ("committed_tokens", "settled_tokens")  # added to ledgers made before the token cap
# One statement = one atomic SQLite transaction: the cap checks and the reservation cannot be
# split by another coroutine, thread or process.
_RESERVE = """
UPDATE totals SET committed = committed + :usd, committed_tokens = committed_tokens + :tokens,
  calls = calls + 1, open = open + 1
WHERE stage = :stage AND (SELECT sum(committed) FROM totals) + :usd <= :max_usd + 1e-12
  AND committed + :usd <= :cap + 1e-12
  AND (SELECT sum(committed_tokens) FROM totals) + :tokens <= :max_tokens"""
_SETTLE = """
UPDATE totals SET committed = committed - :reserved + :actual, settled = settled + :actual,
  committed_tokens = committed_tokens - :reserved_tokens + :actual_tokens,
  settled_tokens = settled_tokens + :actual_tokens, open = open - 1 WHERE stage = :stage"""
NO_CAP = float("inf")


@dataclass(frozen=True)
class Reservation:
    stage: str
    usd: float
    tokens: int = 0


def cost_usd(prompt_tokens: int, completion_tokens: int, price_in: float, price_out: float) -> float:
    """USD for a call at per-million-token prices."""
    return (prompt_tokens * price_in + completion_tokens * price_out) / 1_000_000


def _cap(value: float | None) -> float:
    return NO_CAP if value is None else float(value)


class BudgetLedger:
    """Per stage: committed (settled + open reservations), settled, calls, open reservations,
    and the same for tokens."""

    def __init__(self, path: Path, max_usd: float | None, max_tokens: int | None = None):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.max_usd, self.max_tokens = path, max_usd, max_tokens
        self._db = connect_sqlite(path, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        _add_token_columns(self._db)
        self._stages: set[str] = set()

    def reserve(self, stage: str, usd: float, stage_cap: float | None = None,
                tokens: int = 0) -> Reservation | None:
        """Reserve `usd` and `tokens` for one call, or None when a cap would be passed."""
        if stage not in self._stages:
            self._db.execute("INSERT OR IGNORE INTO totals(stage) VALUES (?)", (stage,))
            self._stages.add(stage)
        cursor = self._db.execute(_RESERVE, {
            "usd": usd, "tokens": tokens, "stage": stage, "max_usd": _cap(self.max_usd),
            "cap": _cap(stage_cap), "max_tokens": _cap(self.max_tokens)})
        return Reservation(stage, usd, tokens) if cursor.rowcount == 1 else None

    def settle(self, reservation: Reservation, actual_usd: float, actual_tokens: int | None = None) -> None:
        """Replace a reservation by what the call really cost (0 when nothing was billed);
        `actual_tokens` None keeps the reserved tokens."""
        tokens = reservation.tokens if actual_tokens is None else actual_tokens
        self._db.execute(_SETTLE, {"reserved": reservation.usd, "actual": actual_usd,
                                   "reserved_tokens": reservation.tokens, "actual_tokens": tokens,
                                   "stage": reservation.stage})

    def committed(self, stage: str | None = None) -> float:
        """Settled spend plus open reservations (what the cap is checked against)."""
        return self._sum("committed", stage)

    def spent(self, stage: str | None = None) -> float:
        """Settled spend only (what the servers reported)."""
        return self._sum("settled", stage)

    def committed_tokens(self, stage: str | None = None) -> int:
        return int(self._sum("committed_tokens", stage))

    def spent_tokens(self, stage: str | None = None) -> int:
        return int(self._sum("settled_tokens", stage))

    def totals(self) -> dict[str, float]:
        """The ledger's totals as `read_spend` gives them (settled, committed, open apart)."""
        return _totals(self.spent(), self.committed(), self.spent_tokens(), self.committed_tokens())

    def by_stage(self) -> dict[str, dict[str, float]]:
        rows = self._db.execute("SELECT stage, committed, settled, calls, open, committed_tokens, "
                                "settled_tokens FROM totals ORDER BY stage")
        return {stage: {"committed": c, "settled": s, "calls": n, "open": o, "committed_tokens": ct,
                        "settled_tokens": st} for stage, c, s, n, o, ct, st in rows}

    def _sum(self, column: str, stage: str | None) -> float:
        if stage is None:
            return float(self._db.execute(f"SELECT coalesce(sum({column}), 0) FROM totals").fetchone()[0])
        row = self._db.execute(f"SELECT {column} FROM totals WHERE stage=?", (stage,)).fetchone()
        return float(row[0]) if row else 0.0

    def close(self) -> None:
        self._db.close()


def _add_token_columns(db: sqlite3.Connection) -> None:
    have = {row[1] for row in db.execute("PRAGMA table_info(totals)")}
    for column in _TOKEN_COLUMNS:
        if column not in have:
            db.execute(f"ALTER TABLE totals ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0")


def _totals(spent: float, committed: float, tokens: int, committed_tokens: int) -> dict[str, float]:
    """Settled spend and tokens (what the servers reported), committed (plus open
    reservations: what the caps are checked against) and the open reservations apart."""
    return {"spend_usd": spent, "committed_usd": committed, "tokens": tokens,
            "committed_tokens": committed_tokens, "open_usd": max(0.0, committed - spent),
            "open_tokens": max(0, committed_tokens - tokens)}


def read_spend(path: Path) -> dict[str, float]:
    """Spend and tokens of a run dir's ledger without opening it for writing (`synth status`);
    see `_totals`."""
    if not path.exists():
        return _totals(0.0, 0.0, 0, 0)
    db = connect_sqlite(path, read_only=True)
    try:
        have = {row[1] for row in db.execute("PRAGMA table_info(totals)")}  # none: no table
        settled, committed = (("settled_tokens", "committed_tokens") if "settled_tokens" in have
                              else ("0", "0"))
        row = db.execute(f"SELECT coalesce(sum(settled), 0), coalesce(sum(committed), 0), "
                         f"coalesce(sum({settled}), 0), coalesce(sum({committed}), 0) "
                         "FROM totals").fetchone()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"budget ledger unreadable ({exc})", file=str(path)) from None
    finally:
        db.close()
    return _totals(float(row[0]), float(row[1]), int(row[2]), int(row[3]))


def read_stage_spend(path: Path) -> dict[str, float]:
    """Settled USD per ledger stage (e.g. generate:<set id>), read-only; {} without a ledger."""
    if not path.exists():
        return {}
    db = connect_sqlite(path, read_only=True)
    try:
        return {stage: float(usd) for stage, usd in db.execute("SELECT stage, settled FROM totals")}
    except sqlite3.DatabaseError as exc:
        raise InputError(f"budget ledger unreadable ({exc})", file=str(path)) from None
    finally:
        db.close()


FREE = Reservation("", 0.0)  # calls neither priced nor token-capped skip the ledger


@dataclass(frozen=True)
class Settlement:
    usd: float  # what the call cost, as settled
    overshoot: str | None = None  # the reported usage passed the reservation: why, for the call log


def usage_tokens(usage: dict[str, object] | None) -> tuple[int, int, bool]:
    """(prompt, completion, both reported) of a usage dict; a count missing or not a
    non-negative integer is 0, and the usage is then not complete."""
    def count(key: str) -> int | None:
        value = usage.get(key) if usage else None
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None

    prompt, completion = count("prompt_tokens"), count("completion_tokens")
    return prompt or 0, completion or 0, prompt is not None and completion is not None


class BudgetGate:
    """One engine's side of the ledger. A refused reservation waits while this engine still has
    calls in flight (their unused worst case comes back when they settle) and gives up, setting
    `refused`, only when nothing of its own is open: the caps are used fully, never passed."""

    def __init__(self, ledger: BudgetLedger, price_in: float, price_out: float, max_output: int = 0):
        self.ledger, self.price_in, self.price_out = ledger, price_in, price_out
        self.max_output = max_output
        self.priced = price_in > 0 or price_out > 0
        self.metered = self.priced or (ledger is not None and ledger.max_tokens is not None)
        self.open = 0
        self.refused = False
        self._settled = asyncio.Event()

    def worst_case(self, prompt_tokens: int) -> tuple[float, int]:
        """(USD, tokens) reserved for a call with this many prompt tokens."""
        tokens = prompt_tokens + self.max_output
        return cost_usd(prompt_tokens, self.max_output, self.price_in, self.price_out), tokens

    async def reserve(self, stage: str, quick_prompt: int, exact_prompt: Callable[[], int],
                      cap: float | None) -> Reservation | None:
        """Reserve a call's worst case: first a quick, looser bound; near a cap, the exact one."""
        if not self.metered:
            return FREE
        prompt, exact = quick_prompt, False
        while not self.refused:
            usd, tokens = self.worst_case(prompt)
            reservation = self.ledger.reserve(stage, usd if self.priced else 0.0, cap, tokens)
            if reservation is not None:
                self.open += 1
                return reservation
            if not exact:
                prompt, exact = min(quick_prompt, exact_prompt()), True
                continue
            if self.open == 0:
                break
            self._settled.clear()
            await self._settled.wait()
        self.refused = True
        return None

    def settle(self, reservation: Reservation, usage: dict[str, int] | None) -> Settlement:
        """Settle with the reported usage. Without both token counts (no usage, or a usage
        without them) the reservation stands: max(what was reported, the worst case). Usage
        above the reservation settles as reported and comes back as an overshoot to log."""
        if reservation is FREE:
            return Settlement(0.0)
        prompt, completion, complete = usage_tokens(usage)
        actual = cost_usd(prompt, completion, self.price_in, self.price_out)
        if not complete:
            return Settlement(self._close(reservation, max(actual, reservation.usd),
                                          max(prompt + completion, reservation.tokens)))
        overshoot = None
        if prompt + completion > reservation.tokens or actual > reservation.usd + EPSILON:
            overshoot = (f"the server reported {prompt} prompt + {completion} completion tokens "
                         f"(${actual:.6f}), over the {reservation.tokens} tokens "
                         f"(${reservation.usd:.6f}) reserved")
        return Settlement(self._close(reservation, actual, prompt + completion), overshoot)

    def settle_fault(self, reservation: Reservation, billed: bool) -> float:
        """A failed call: nothing billed, or (timeouts, drops) maybe billed: keep the worst case."""
        if reservation is FREE:
            return 0.0
        if billed:
            return self._close(reservation, reservation.usd, None)
        return self._close(reservation, 0.0, 0)

    def _close(self, reservation: Reservation, actual: float, tokens: int | None) -> float:
        self.ledger.settle(reservation, actual, tokens)
        self.open -= 1
        self._settled.set()
        return actual
