"""run_batch: many requests through one engine, `concurrency` in flight, with a progress bar.

    summary = await run_batch(engine, requests, ResponseModel, on_result,
                              total=n, description="judge", stage="judge",
                              stage_cap=config.budget.judge_max_usd)

- `requests`: any iterable of LLMRequest (consumed lazily, so it can be a generator).
- `response_model`: one pydantic model for every request, or a function request -> model
  (e.g. generation: each expert's own question types in the schema).
- `on_result(result)`: called once per finished item, in completion order, with an LLMResult
  (status ok: `.value` is a validated ResponseModel; failed: `.reason`/`.error`;
  skipped_budget: the cap refused the call). Write results there as they come, so a kill
  loses only what is in flight. It may be a plain function or a coroutine function.
- Workers: 2 x concurrency asyncio tasks pull from the iterator (no thread per request);
  the engine lets at most `concurrency` requests be in flight. When the budget refuses a
  call, no new item is started, in-flight items finish,
  and the summary says `stopped="budget"`; items never started get no result.
- An LLMError (401, 404, ...) cancels the other workers and propagates.
- The bar shows done/total, failed, spend and ETA (stderr; `progress=False` hides it).
"""
from __future__ import annotations

import asyncio
import inspect
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from synth.llm.engine import LLMEngine
from synth.llm.types import BatchSummary, LLMRequest, LLMResult

OnResult = Callable[[LLMResult], Any] | Callable[[LLMResult], Awaitable[Any]]
ResponseModels = type[BaseModel] | Callable[[LLMRequest], type[BaseModel]]


def model_for(models: ResponseModels, request: LLMRequest) -> type[BaseModel]:
    """The response model of one request (a class, or a function of the request)."""
    return models if isinstance(models, type) else models(request)


def make_progress(enabled: bool = True) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("failed {task.fields[failed]}"), TextColumn("${task.fields[spend]:.4f}"),
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
        console=Console(stderr=True), disable=not enabled, refresh_per_second=4)


class _Batch:
    def __init__(self, engine: LLMEngine, items: Iterator[LLMRequest], model: ResponseModels,
                 on_result: OnResult, stage: str | None, stage_cap: float | None):
        self.engine, self.items, self.model = engine, items, model
        self.on_result, self.stage, self.stage_cap = on_result, stage, stage_cap
        self.is_async = inspect.iscoroutinefunction(on_result)
        self.summary = BatchSummary()
        self.failures: Counter[str] = Counter()
        self.progress: Progress | None = None
        self.task: TaskID | None = None

    def next_item(self) -> LLMRequest | None:
        if self.engine.budget_refused:
            return None
        return next(self.items, None)

    async def worker(self) -> None:
        while (request := self.next_item()) is not None:
            result = await self.engine.call(request, model_for(self.model, request), stage=self.stage,
                                            stage_cap=self.stage_cap)
            await self.handle(result)

    async def handle(self, result: LLMResult) -> None:
        self.count(result)
        if self.is_async:
            await self.on_result(result)  # type: ignore[misc]
        else:
            self.on_result(result)

    def runners(self, total: int | None) -> list[Coroutine[Any, Any, None]]:
        """The coroutines that run the batch: an engine that batches itself (call_many:
        provider ray_vllm) gets every item at once; else the asyncio workers."""
        call_many = getattr(self.engine, "call_many", None)
        if call_many is None:
            return [self.worker() for _ in range(_workers(self.engine, total))]
        if isinstance(self.model, type):
            return [call_many(self.items, self.model, self.handle, stage=self.stage,
                              stage_cap=self.stage_cap)]
        groups: dict[type[BaseModel], list[LLMRequest]] = {}  # one call_many per response model
        for request in self.items:
            groups.setdefault(model_for(self.model, request), []).append(request)
        return [call_many(items, model, self.handle, stage=self.stage, stage_cap=self.stage_cap)
                for model, items in groups.items()]

    def count(self, result: LLMResult) -> None:
        s = self.summary
        s.items += 1
        s.calls += result.attempts
        s.spend_usd += result.cost_usd
        s.cached += int(result.cached)
        if result.status == "ok":
            s.ok += 1
        elif result.status == "failed":
            s.failed += 1
            self.failures[result.reason or "unknown"] += 1
        else:
            s.skipped_budget += 1
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, advance=0 if result.status == "skipped_budget" else 1,
                                 failed=s.failed, spend=s.spend_usd)


def _workers(engine: LLMEngine, total: int | None) -> int:
    """Twice as many workers as HTTP slots: while one handles its answer (validation, writes),
    another's request already waits for the freed slot, so `concurrency` stay in flight even
    when a whole wave of answers arrives at once."""
    count = 2 * engine.config.concurrency
    return count if total is None else max(1, min(count, total))


async def run_batch(engine: LLMEngine, requests: Iterable[LLMRequest], response_model: ResponseModels,
                    on_result: OnResult, *, total: int | None = None, description: str = "llm",
                    stage: str | None = None, stage_cap: float | None = None,
                    progress: bool = True) -> BatchSummary:
    """Run every request (see the module docstring); returns what happened."""
    batch = _Batch(engine, iter(requests), response_model, on_result, stage, stage_cap)
    started = time.perf_counter()
    with make_progress(progress) as bar:
        batch.progress = bar
        batch.task = bar.add_task(description, total=total, failed=0, spend=0.0)
        workers = [asyncio.create_task(runner) for runner in batch.runners(total)]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            engine.services.flush()
    summary = batch.summary
    summary.failures = dict(batch.failures)
    summary.stopped = "budget" if engine.budget_refused else None
    summary.elapsed_s = time.perf_counter() - started
    summary.replicas_out = engine.replicas_out()
    return summary
