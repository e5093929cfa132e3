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
cache as rows arrive.

    generator: {provider: ray_vllm, model: Qwen/Qwen3-8B, max_tokens: 512}
    engine: {kind: ray, address: auto, workers: 2, vllm_engine_kwargs: {max_model_len: 8192}}

The cluster's GPU nodes need `ray[llm]` (it brings vLLM). Not runnable on CPU machines: the
tests drive everything around the engine call with a stand-in for `run_rows`.
"""
from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from synth.config import EngineConfig, LLMConfig
from synth.llm.budget import FREE, Reservation
from synth.llm.engine import LLMEngine
from synth.llm.record import Tally
from synth.llm.replies import Reply, reask_messages, validate_reply
from synth.llm.services import LLMServices
from synth.llm.tokens import byte_bound
from synth.llm.types import LLMRequest, LLMResult

RowRunner = Callable[[list[dict[str, Any]]], Iterator[dict[str, Any]]]
Handler = Callable[[LLMResult], Awaitable[None]]
URL_SCHEME = "ray-vllm://"  # stands for base_url in the cache key


def sampling_params(config: LLMConfig, seed: int, schema: str) -> dict[str, Any]:
    """vLLM SamplingParams fields for one row: the config's sampling plus guided JSON (the
    schema as JSON text: one Arrow string column, whatever the schema's shape)."""
    params = {"temperature": config.temperature, "max_tokens": config.max_tokens, "seed": seed,
              "structured_outputs": {"json": schema}}
    params.update(config.extra_body.get("sampling_params", {}))
    return params


def preprocess(row: dict[str, Any]) -> dict[str, Any]:
    """Dataset row -> the processor's input columns (messages, sampling_params) plus our ids."""
    return {"row_id": row["row_id"], "request_hash": row["request_hash"],
            "messages": row["messages"], "sampling_params": row["sampling_params"]}


def postprocess(row: dict[str, Any]) -> dict[str, Any]:
    """Processor output row -> what the driver needs (text, token counts, error)."""
    return {"row_id": row["row_id"], "request_hash": row["request_hash"],
            "text": row.get("generated_text") or "", "error": row.get("__inference_error__") or "",
            "prompt_tokens": int(row.get("num_input_tokens") or 0),
            "completion_tokens": int(row.get("num_generated_tokens") or 0)}


def reply_of(row: dict[str, Any], max_tokens: int) -> Reply:
    """An output row as the Reply the HTTP providers produce (length finish at max_tokens)."""
    completion = row["completion_tokens"]
    return Reply(content=row["text"], finish="length" if completion >= max_tokens else "stop",
                 refusal=None, usage={"prompt_tokens": row["prompt_tokens"],
                                      "completion_tokens": completion},
                 endpoint=URL_SCHEME + "ray-data")


def processor_config(llm: LLMConfig, engine: EngineConfig) -> Any:
    """The vLLMEngineProcessorConfig for this endpoint (ray.data.llm)."""
    from ray.data.llm import vLLMEngineProcessorConfig

    return vLLMEngineProcessorConfig(
        model_source=llm.model, engine_kwargs=dict(engine.vllm_engine_kwargs),
        concurrency=engine.workers, batch_size=engine.batch_size,
        accelerator_type=engine.accelerator_type, should_continue_on_error=True)


def builder_kwargs(llm: LLMConfig) -> dict[str, Any] | None:
    """extra_body.chat_template_kwargs (e.g. Qwen3's enable_thinking: false) for the chat
    template stage, as the HTTP providers send them to vLLM's server."""
    kwargs = llm.extra_body.get("chat_template_kwargs")
    return {"chat_template_kwargs": dict(kwargs)} if kwargs else None


def ray_data_rows(llm: LLMConfig, engine: EngineConfig) -> RowRunner:
    """Rows through a ray.data.llm vLLM processor, streamed back as they finish."""
    def run(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        import ray
        from ray.data.llm import build_processor

        from synth.llm.ray_dispatch import connect_ray

        connect_ray(engine)
        processor = build_processor(processor_config(llm, engine), preprocess=preprocess,
                                    postprocess=postprocess, builder_kwargs=builder_kwargs(llm))
        yield from processor(ray.data.from_items(rows)).iter_rows()
    return run


@dataclass
class _Pending:
    request: LLMRequest
    key: str
    messages: list[dict[str, str]]
    tally: Tally
    reservation: Reservation | None = None


class RayDataEngine(LLMEngine):
    """LLMEngine for provider ray_vllm: batches through ray.data.llm (see the module docstring)."""

    def __init__(self, config: LLMConfig, services: LLMServices, engine: EngineConfig, *,
                 run_rows: RowRunner | None = None, **kwargs: Any):
        named = config.model_copy(update={"base_url": URL_SCHEME + config.model})
        super().__init__(named, services, connect=False, **kwargs)
        self.run_rows = run_rows or ray_data_rows(config, engine)

    async def call(self, request: LLMRequest, model: type[BaseModel], *, stage: str | None = None,
                   stage_cap: float | None = None) -> LLMResult:
        results: list[LLMResult] = []

        async def keep(result: LLMResult) -> None:
            results.append(result)
        await self.call_many([request], model, keep, stage=stage, stage_cap=stage_cap)
        return results[0]

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
        for item in pending:  # still invalid after the last re-ask
            await handle(self._result(item.request, item.key, item.tally, "failed",
                                      reason="validation_failed", error="no valid answer"))

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
        async for row in _stream(self.run_rows, rows):
            item = sent.pop(row["row_id"])
            retry = self._answer(item, row, model, stage)
            if retry is None:
                continue
            if isinstance(retry, LLMResult):
                await handle(retry)
            else:
                again.append(item)
        for item in sent.values():  # rows the processor never returned: may have run
            assert item.reservation is not None
            self.gate.settle_fault(item.reservation, billed=True)
            again.append(item)
        return again

    def _reserve(self, stage: str, messages: list[dict[str, str]], cap: float | None) -> Reservation | None:
        """The worst case of one row, reserved now (every row of a pass is reserved before the
        pass runs, so a refusal cannot wait for settlements: it stops the batch at once)."""
        if not self.gate.metered:  # neither priced nor under budget.max_tokens
            return FREE
        if self.gate.refused:
            return None
        usd, tokens = self.gate.worst_case(min(byte_bound(messages), self.prompt_tokens(messages)))
        reservation = self.gate.ledger.reserve(stage, usd if self.gate.priced else 0.0, cap, tokens)
        if reservation is None:
            self.gate.refused = True
        else:
            self.gate.open += 1
        return reservation

    def _row(self, row_id: str, item: _Pending, model: type[BaseModel]) -> dict[str, Any]:
        schema = json.dumps(self._format(model)[0]["response_format"]["json_schema"]["schema"])
        return {"row_id": row_id, "request_hash": item.key, "messages": item.messages,
                "sampling_params": sampling_params(self.config, self._seed(item.request), schema)}

    def _answer(self, item: _Pending, row: dict[str, Any], model: type[BaseModel],
                stage: str) -> LLMResult | bool | None:
        """Settle and judge one output row: a result, or True (re-ask in the next pass)."""
        assert item.reservation is not None
        item.tally.attempts += 1
        if row["error"]:
            item.tally.cost += self.gate.settle_fault(item.reservation, billed=True)
            self._log(item.request, item.key, stage, "error", attempt=item.tally.attempts,
                      reason="engine_error", error=row["error"])
            return True
        reply = reply_of(row, self.config.max_tokens)
        self._settle(item.reservation, reply.usage, item.tally)
        value, fault = validate_reply(reply, model, self.config.max_tokens)
        status = "ok" if value is not None else ("invalid" if fault.reason == "validation_failed" else fault.reason)
        self._log(item.request, item.key, stage, status, attempt=item.tally.attempts,
                  reason=None if value is not None else fault.reason,
                  error=None if value is not None else fault.message, usage=reply.usage,
                  endpoint=reply.endpoint)
        if value is not None:
            self.services.cache.put(item.key, reply.content or "", item.tally.usage.model_dump())
            return self._result(item.request, item.key, item.tally, "ok", value=value)
        item.messages = reask_messages(item.messages, reply, fault)
        return True


async def _stream(run_rows: RowRunner, rows: list[dict[str, Any]]) -> Any:
    """Iterate a blocking row iterator in a thread, yielding rows here as they arrive."""
    if not rows:
        return
    loop, queue = asyncio.get_running_loop(), asyncio.Queue()
    done = object()

    def pump() -> None:
        try:
            for row in run_rows(rows):
                loop.call_soon_threadsafe(queue.put_nowait, row)
        except BaseException as exc:  # noqa: BLE001 (not swallowed: raised in the event loop)
            loop.call_soon_threadsafe(queue.put_nowait, exc)
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, done)
    threading.Thread(target=pump, name="ray-data-rows", daemon=True).start()
    while (row := await queue.get()) is not done:
        if isinstance(row, BaseException):
            raise row
        yield row
