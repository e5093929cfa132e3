"""provider ray_vllm: the generator or judge on GPUs inside the Ray cluster (ray.data.llm).

No servers to stand up: the requests that miss the response cache become a Ray Dataset that
a `ray.data.llm` vLLM engine processor (`vLLMEngineProcessorConfig`, `engine.workers` engine
replicas of `engine.vllm_engine_kwargs`, `engine.batch_size` rows a batch) answers with
guided decoding (`sampling_params.structured_outputs.json` = the response model's JSON
schema, the same schema the HTTP providers send as response_format). The books stay on the
driver as with every engine: cache hits are answered here, each row reserves its worst case
before the dataset runs and settles with the engine's token counts, answers are validated
with the same pydantic models, invalid or cut-off answers are re-asked (instructor's re-ask
messages) in a next pass, every attempt is in the call log and validated answers go to the
cache as rows arrive. Re-asks send their own seed (RequestShape.attempt_seed). An item whose
last pass ended in an engine error or a row that never came back fails with that transient
reason (engine_error, row_lost: a rerun tries it again), never as validation_failed; rows a
pass did not return, or a pass that raised, settle their reservations at the worst case. The
processor is built once per engine (RayDataRows) and single calls made together (the revise
loop's) go through it as one pass.

    generator: {provider: ray_vllm, model: Qwen/Qwen3-8B, max_tokens: 512}
    engine: {kind: ray, address: auto, workers: 2, vllm_engine_kwargs: {max_model_len: 8192}}

The cluster's GPU nodes need `ray[llm]` (it brings vLLM). Not runnable on CPU machines: the
tests drive everything around the engine call with a stand-in for `run_rows`.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from synth.config import EngineConfig, LLMConfig
from synth.llm.budget import FREE, Reservation
from synth.llm.engine import LLMEngine
from synth.llm.ray_data_rows import RayDataRows, RowRunner, reply_of, sampling_params, stream_rows
from synth.llm.record import Tally
from synth.llm.replies import next_messages, validate_reply
from synth.llm.retry import CallFault
from synth.llm.services import LLMServices
from synth.llm.tokens import byte_bound
from synth.llm.types import LLMRequest, LLMResult

Handler = Callable[[LLMResult], Awaitable[None]]
ENGINE_ERROR, LOST_ROW = "engine_error", "row_lost"  # transient: a rerun tries the item again
GATHER_S = 0.05  # single calls arriving within this window go through the processor together


@dataclass
class _Pending:
    request: LLMRequest
    key: str
    messages: list[dict[str, str]]
    tally: Tally
    reservation: Reservation | None = None  # this pass's, until settled
    answers: int = 0  # answers received (each re-ask sends its own seed)
    fault: CallFault = field(default_factory=lambda: CallFault(LOST_ROW, "no answer", True))


class RayDataEngine(LLMEngine):
    """LLMEngine for provider ray_vllm: batches through ray.data.llm (see the module docstring)."""

    def __init__(self, config: LLMConfig, services: LLMServices, engine: EngineConfig, *,
                 run_rows: RowRunner | None = None, **kwargs: Any):
        named = config.model_copy(update={"base_url": "ray-vllm://" + config.model})  # cache key
        super().__init__(named, services, connect=False, **kwargs)
        self.run_rows = run_rows or RayDataRows(config, engine)
        self._waiting: dict[tuple[Any, ...], list[tuple[LLMRequest, asyncio.Future[LLMResult]]]] = {}
        self._groups: set[asyncio.Task[None]] = set()  # passes of gathered calls, running

    async def call(self, request: LLMRequest, model: type[BaseModel], *, stage: str | None = None,
                   stage_cap: float | None = None) -> LLMResult:
        """One request; single calls made together (the revise loop's) share one call_many."""
        group = (model, stage, stage_cap)
        future: asyncio.Future[LLMResult] = asyncio.get_running_loop().create_future()
        if group not in self._waiting:
            self._waiting[group] = []
            asyncio.get_running_loop().call_later(GATHER_S, self._start_group, group)
        self._waiting[group].append((request, future))
        return await future

    def _start_group(self, group: tuple[Any, ...]) -> None:
        task = asyncio.get_running_loop().create_task(self._call_group(group))
        self._groups.add(task)  # held until done (the loop keeps only a weak reference)
        task.add_done_callback(self._groups.discard)

    async def _call_group(self, group: tuple[Any, ...]) -> None:
        model, stage, stage_cap = group
        waiting = self._waiting.pop(group)
        futures = {request.item_id: future for request, future in waiting}

        async def answer(result: LLMResult) -> None:
            if not futures[result.item_id].done():  # (its caller may have been cancelled)
                futures[result.item_id].set_result(result)
        try:
            await self.call_many([r for r, _ in waiting], model, answer, stage=stage,
                                 stage_cap=stage_cap)
        except BaseException as exc:  # noqa: BLE001 (not swallowed: raised in every caller)
            for future in (f for f in futures.values() if not f.done()):
                if isinstance(exc, Exception):
                    future.set_exception(exc)
                else:
                    future.cancel()
            if not isinstance(exc, Exception):  # cancelled, interrupted: this task stops too
                raise

    async def call_many(self, requests: Iterable[LLMRequest], model: type[BaseModel], handle: Handler,
                        *, stage: str | None = None, stage_cap: float | None = None) -> None:
        """Every request: cache hits here, misses in passes through the processor."""
        stage = stage or self.stage
        cap = stage_cap if stage_cap is not None else self.stage_cap
        pending = []
        for request in requests:
            key = self.request_hash(request, model)
            hit = self._from_cache(request, model, key, stage)
            if hit is not None:
                await handle(hit)
            else:
                pending.append(_Pending(request, key, list(request.messages), Tally()))
        for _ in range(self.config.max_retries + 1):
            if not pending:
                break
            pending = await self._pass(pending, model, stage, cap, handle)
        for item in pending:  # no valid answer after the last pass: the last fault's reason
            await handle(self._result(item.request, item.key, item.tally, "failed",
                                      reason=item.fault.reason, error=item.fault.message))

    async def _pass(self, pending: list[_Pending], model: type[BaseModel], stage: str,
                    cap: float | None, handle: Handler) -> list[_Pending]:
        """One pass: reserve, run the rows, settle/validate/save each as it comes back."""
        sent: dict[str, _Pending] = {}
        for item in pending:
            item.reservation = self._reserve(stage, item.messages, cap)
            if item.reservation is None:
                self._log(item.request, item.key, stage, "budget", reason="budget_exhausted")
                await handle(self._result(item.request, item.key, item.tally, "skipped_budget",
                                          reason="budget_exhausted", error="the budget cap refused it"))
            else:
                sent[str(len(sent))] = item
        again = []
        rows = [self._row(row_id, item, model) for row_id, item in sent.items()]
        try:
            async for row in stream_rows(self.run_rows, rows):
                item = sent.pop(row["row_id"])
                retry = self._answer(item, row, model, stage)
                if isinstance(retry, LLMResult):
                    await handle(retry)
                elif retry:
                    again.append(item)
        finally:  # rows the processor never returned, or the pass raised: they may have run
            for item in sent.values():
                if item.reservation is not None:
                    item.tally.cost += self.gate.settle_fault(item.reservation, billed=True)
                    item.reservation = None
                item.tally.attempts += 1
                item.fault = CallFault(LOST_ROW, "the processor never returned this row", True)
                self._log(item.request, item.key, stage, "error", attempt=item.tally.attempts,
                          reason=LOST_ROW, error=item.fault.message)
                again.append(item)
        return again

    def _reserve(self, stage: str, messages: list[dict[str, str]], cap: float | None) -> Reservation | None:
        """The worst case of one row, reserved now (every row of a pass is reserved before the
        pass runs, so a refusal cannot wait for settlements: it stops the batch at once)."""
        if not self.gate.metered:  # neither priced nor under budget.max_tokens
            return FREE
        if self.gate.refused:
            return None
        usd, tokens = self.gate.worst_case(min(byte_bound(messages), self.prompt_bound(messages)))
        reservation = self.gate.ledger.reserve(stage, usd if self.gate.priced else 0.0, cap, tokens)
        if reservation is None:
            self.gate.refused = True
        else:
            self.gate.open += 1
        return reservation

    def _row(self, row_id: str, item: _Pending, model: type[BaseModel]) -> dict[str, Any]:
        schema = json.dumps(self._format(model)[0]["response_format"]["json_schema"]["schema"])
        seed = self.shape.attempt_seed(item.request, item.answers)
        return {"row_id": row_id, "request_hash": item.key, "messages": item.messages,
                "sampling_params": sampling_params(self.config, seed, schema)}

    def _answer(self, item: _Pending, row: dict[str, Any], model: type[BaseModel],
                stage: str) -> LLMResult | bool:
        """Settle and judge one output row: a result, or True (re-ask in the next pass)."""
        assert item.reservation is not None
        reservation, item.reservation = item.reservation, None
        item.tally.attempts += 1
        seed = self.shape.attempt_seed(item.request, item.answers)
        if row["error"]:
            item.tally.cost += self.gate.settle_fault(reservation, billed=True)
            item.fault = CallFault(ENGINE_ERROR, str(row["error"])[:1500], True)
            self._log(item.request, item.key, stage, "error", attempt=item.tally.attempts,
                      reason=ENGINE_ERROR, error=row["error"], seed=seed)
            return True
        item.answers += 1
        reply = reply_of(row, self.config.max_tokens)
        self._settle(reservation, reply.usage, item.tally, item.request, item.key, stage)
        value, fault = validate_reply(reply, model, self.config.max_tokens, item.request.validation_context)
        status = "ok" if value is not None else ("invalid" if fault.reason == "validation_failed" else fault.reason)
        self._log(item.request, item.key, stage, status, attempt=item.tally.attempts,
                  reason=None if value is not None else fault.reason,
                  error=None if value is not None else fault.message, usage=reply.usage,
                  endpoint=reply.endpoint, seed=seed)
        if value is not None:
            self.services.cache.put(item.key, reply.content or "", item.tally.usage.model_dump())
            return self._result(item.request, item.key, item.tally, "ok", value=value)
        item.fault = fault
        if fault.reason == "refusal":  # not re-asked, as with the HTTP providers
            return self._result(item.request, item.key, item.tally, "failed", reason=fault.reason,
                                error=fault.message)
        item.messages = next_messages(item.request.messages, item.messages, reply, fault)
        return True
