"""Helpers for the LLM engine tests: an engine wired to a FakeLLMServer in a temp run dir."""
from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from synth.config import BudgetConfig, LLMConfig
from synth.llm import LLMEngine, LLMRequest, LLMServices
from synth.llm.retry import RetryPolicy
from synth.rundir import RunDir

KEY_ENV = "SYNTH_TEST_KEY"
KEY = "sk-test-9f8e7d6c5b4a39281706"


class Answer(BaseModel):
    text: str = Field(min_length=3)
    n: int = Field(ge=1, le=5)


def llm_config(url: str | list[str], **overrides: Any) -> LLMConfig:
    values: dict[str, Any] = {"provider": "openai", "model": "fake-model", "base_url": url,
                              "api_key_env": KEY_ENV, "concurrency": 8, "timeout_s": 5, "max_retries": 3,
                              "max_tokens": 200, "backoff_base_s": 0.01, "backoff_max_s": 0.05,
                              "price_in_per_mtok": 0.0, "price_out_per_mtok": 0.0}
    values.update(overrides)
    return LLMConfig(**values)


@contextlib.asynccontextmanager
async def engine_for(run_root: Path, config: LLMConfig, max_usd: float | None = 100.0,
                     max_tokens: int | None = None, **kwargs: Any) -> AsyncIterator[LLMEngine]:
    services = LLMServices(RunDir(run_root), BudgetConfig(max_usd=max_usd, max_tokens=max_tokens))
    try:
        engine = LLMEngine(config, services, policy=RetryPolicy(0.01, 0.05), **kwargs)
    except BaseException:
        services.close()
        raise
    try:
        yield engine
    finally:
        await engine.aclose()
        services.close()


def request(i: int = 0, text: str | None = None, template_hash: str = "t1") -> LLMRequest:
    content = text or f"Please answer item {i} about feeling stuck in old patterns."
    return LLMRequest(item_id=f"item-{i}", template_hash=template_hash,
                      messages=[{"role": "system", "content": "You answer in JSON."},
                                {"role": "user", "content": content}])


def call_rows(run_root: Path) -> list[dict[str, Any]]:
    db = sqlite3.connect(run_root / "calls.sqlite")
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM calls ORDER BY id")]
    finally:
        db.close()
