"""synth.llm: the one seam for LLM calls. Stages import from here, never the SDK.

Public API (used by generate, judge and the revise loop):

    from synth.llm import open_engine, run_batch, LLMRequest, LLMResult

    async with open_engine(config.judge, run, config.budget, stage="judge",
                           stage_cap=config.budget.judge_max_usd,
                           offline=my_offline_answerer) as engine:
        summary = await run_batch(engine, requests, Verdict, on_result,
                                  total=len(requests), description="judge")
        one = await engine.call(request, Verdict)          # a single call

- `open_engine(llm_config, run, budget, *, stage, stage_cap=None, offline=None, services=None,
  engine=config.engine)`:
  an LLMEngine for one endpoint config (provider vllm / openai / offline) over the run's
  shared response cache (run/cache), budget ledger (run/spend.sqlite, cap budget.max_usd plus
  the optional stage cap) and call log (run/calls.sqlite). Pass `services=other.services` to
  share them with an engine that is already open (e.g. the judge opening the generator).
- `LLMRequest(item_id, messages, template_hash, seed=None, offline_inputs={})`: the
  template/rubric hash is part of the cache key; `offline_inputs` feed the offline answerer.
- `engine.call(request, Model, stage=None, stage_cap=None) -> LLMResult`: status "ok" (value is
  a validated Model), "failed" (reason: validation_failed, truncated, refusal, timeout,
  http_5xx, http_429, connection, bad_response, prompt_too_long; never a made-up value) or
  "skipped_budget" (the cap refused it; `engine.budget_refused` is then True). Raises
  LLMError for 401/403/404/other non-retryable 4xx (the run must stop).
- `run_batch(engine, requests, Model, on_result, *, total, description, stage, stage_cap,
  progress=True) -> BatchSummary`: see synth.llm.batch.
- offline answerer: `Callable[[LLMRequest], BaseModel]`, required when provider is offline.
- `make_engine(llm_config, services, engine_config, **kw)`: the engine open_engine uses: local,
  RayEngine (engine.kind ray: Ray workers send the HTTP calls, synth.llm.ray_dispatch) or
  RayDataEngine (provider ray_vllm: vLLM in the cluster via ray.data.llm).
"""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from importlib import import_module
from typing import TYPE_CHECKING, Any

from synth.config import BudgetConfig, EngineConfig, LLMConfig
from synth.llm.types import BatchSummary, LLMRequest, LLMResult, OfflineAnswerer, Usage
from synth.rundir import RunDir

if TYPE_CHECKING:
    from synth.llm.batch import run_batch
    from synth.llm.engine import LLMEngine
    from synth.llm.engines import make_engine
    from synth.llm.services import LLMServices

# the engine pulls the OpenAI SDK and instructor: loaded on first use, so that `synth status` and
# other readers of the run's stores (synth.llm.budget, synth.llm.calllog) start fast
_LAZY = {"run_batch": "synth.llm.batch", "LLMEngine": "synth.llm.engine",
         "make_engine": "synth.llm.engines", "LLMServices": "synth.llm.services"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'synth.llm' has no attribute {name!r}")

__all__ = [
    "BatchSummary",
    "LLMEngine",
    "LLMRequest",
    "LLMResult",
    "LLMServices",
    "OfflineAnswerer",
    "Usage",
    "make_engine",
    "open_engine",
    "run_batch",
]


@contextlib.asynccontextmanager
async def open_engine(llm: LLMConfig, run: RunDir, budget: BudgetConfig, *, stage: str,
                      stage_cap: float | None = None, offline: OfflineAnswerer | None = None,
                      services: LLMServices | None = None, connect: bool = True,
                      engine: EngineConfig | None = None) -> AsyncIterator[LLMEngine]:
    """An engine for one endpoint over the run's cache, budget and call log (closed on exit);
    `engine` (the run's engine section) picks local or Ray (synth.llm.engines.make_engine)."""
    from synth.llm.engines import make_engine
    from synth.llm.services import LLMServices

    own = services is None
    shared = services if services is not None else LLMServices(run, budget)
    try:
        made = make_engine(llm, shared, engine, stage=stage, stage_cap=stage_cap, offline=offline,
                           connect=connect)
        try:
            yield made
        finally:
            await made.aclose()
    finally:
        if own:
            shared.close()
