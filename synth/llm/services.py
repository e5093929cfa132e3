"""Per-run state every engine of a run shares: response cache, budget ledger, call log.

Generation, judging and revising open engines over the same LLMServices (or over separate
ones on the same run dir: all three stores are safe to share between processes).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from synth.config import BudgetConfig
from synth.llm.budget import BudgetLedger
from synth.llm.cache import ResponseCache
from synth.llm.calllog import CallLog
from synth.rundir import RunDir

# key-like tokens: OpenAI style keys and bearer tokens, scrubbed from every stored error text
_KEYLIKE = re.compile(r"(sk-[A-Za-z0-9_\-]{8,}|Bearer\s+\S+)")


@dataclass
class Redactor:
    """Removes secrets (API key values) from text before it is logged or stored."""

    secrets: set[str] = field(default_factory=set)

    def add_env(self, env_name: str | None) -> None:
        value = os.environ.get(env_name) if env_name else None
        if value and len(value) >= 4:
            self.secrets.add(value)

    def __call__(self, text: str | None) -> str | None:
        if not text:
            return text
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return _KEYLIKE.sub("***", text)


class LLMServices:
    def __init__(self, run: RunDir, budget: BudgetConfig):
        self.run, self.budget = run, budget
        run.root.mkdir(parents=True, exist_ok=True)
        self.cache = ResponseCache(run.cache_dir)
        self.ledger = BudgetLedger(run.spend_db, budget.max_usd, budget.max_tokens)
        self.calls = CallLog(run.calls_db)
        self.redact = Redactor()
        self._closed = False

    def flush(self) -> None:
        self.cache.flush()
        self.calls.flush()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.cache.close()
        self.calls.close()
        self.ledger.close()
