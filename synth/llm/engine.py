"""LLMEngine: the one seam for LLM calls (providers vllm, openai, offline).

`await engine.call(request, ResponseModel)` -> LLMResult (status ok / failed / skipped_budget;
never raises for one item's failure; raises LLMError when the endpoint refuses us: 401, 404,
other non-retryable 4xx). Per call: cache lookup (a hit makes no call), then at most
max_retries+1 HTTP attempts in all (one retry budget per item for transport faults and re-asks,
across replicas), each: reserve the worst case in the budget ledger (USD and tokens, prices
from synth.llm.prices; refused -> skipped_budget), POST to a replica in rotation
(synth.llm.breaker; body and cache key: synth.llm.shape), validate the answer with the pydantic
model. A transport fault is retried with backoff + jitter (Retry-After), or at once on another
replica in rotation; an invalid or cut-off answer is re-asked with the error (instructor's
JSON_SCHEMA re-ask). Every attempt, and every replica taken out of or put back into rotation
(status replica_out / replica_back), is in the call log; validated answers go to the cache.
"""
from __future__ import annotations

import asyncio
import functools
import time
from typing import Any

import openai
from pydantic import BaseModel, ValidationError

from synth.config import LLMConfig
from synth.errors import LLMError
from synth.llm.breaker import REPLICA_FAULTS
from synth.llm.budget import BudgetGate, Reservation
from synth.llm.prices import Prices, resolve_prices
from synth.llm.record import Tally, fatal_message, item_result, log_call
from synth.llm.replies import (
    Reply,
    parse_reply,
    reask_messages,
    validate_reply,
)
from synth.llm.retry import CallFault, RetryPolicy, classify
from synth.llm.services import LLMServices
from synth.llm.shape import RequestShape
from synth.llm.tokens import TokenCounter, byte_bound
from synth.llm.transport import Transport, base_urls
from synth.llm.types import LLMRequest, LLMResult, OfflineAnswerer, Usage

_STATUS = {"validation_failed": "invalid"}  # call-log status of an answer that failed validation


_Tally = Tally  # (the ray_vllm engine builds its own tallies)


class LLMEngine:
    def __init__(self, config: LLMConfig, services: LLMServices, *, stage: str = "generate",
                 stage_cap: float | None = None, offline: OfflineAnswerer | None = None,
                 policy: RetryPolicy | None = None, connect: bool = True, section: str | None = None):
        self.config, self.services = config, services
        self.stage, self.stage_cap, self.offline = stage, stage_cap, offline
        self.policy = policy or RetryPolicy(config.backoff_base_s, config.backoff_max_s)
        self.provider, self.model = config.provider, config.model
        self.is_offline = config.provider == "offline"
        self.urls = [] if self.is_offline else base_urls(config)
        # connect=False: hashes and estimates only (dry runs), no HTTP client and no API key
        self.transport = Transport(config) if connect and not self.is_offline else None
        self.shape = RequestShape(config, self.urls)
        self._replica_events: list[tuple[str, str | None, str]] = []  # (status, reason, url) to log
        services.redact.add_env(config.api_key_env)
        self._counter: TokenCounter | None = None
        self._slots = asyncio.Semaphore(config.concurrency)
        self._pause_until = 0.0
        self._fatal = ""  # set by the first 401/404/...: later calls raise without sending
        # prices: the config's, else the published ones (fails closed before any call)
        section = section or ("judge" if stage == "judge" else "generator")
        self.prices: Prices = resolve_prices(config, services.budget.max_usd, section)
        self.gate = BudgetGate(services.ledger, self.prices.price_in, self.prices.price_out,
                               config.max_tokens)

    # ------------------------------------------------------------ public
    async def call(self, request: LLMRequest, model: type[BaseModel], *, stage: str | None = None,
                   stage_cap: float | None = None) -> LLMResult:
        stage = stage or self.stage
        cap = stage_cap if stage_cap is not None else self.stage_cap
        if self.is_offline:
            return self._offline(request, model, stage)
        key = self.request_hash(request, model)
        hit = self._from_cache(request, model, key, stage)
        if hit is not None:
            return hit
        return await self._ask(request, model, key, stage, cap)

    def request_hash(self, request: LLMRequest, model: type[BaseModel]) -> str:
        return self.shape.request_hash(request, model)

    def _format(self, model: type[BaseModel]) -> tuple[dict[str, Any], str]:
        """The plain structured-output fields (for engines that send the schema otherwise)."""
        return self.shape.format(model, strict=False)

    def _seed(self, request: LLMRequest) -> int:
        return self.shape.seed(request)

    def worst_case_usd(self, messages: list[dict[str, str]]) -> float:
        """The reservation for one call: all prompt tokens plus max_tokens of output."""
        return self.gate.worst_case(self.prompt_tokens(messages))[0] if self.gate.priced else 0.0

    def worst_case_tokens(self, messages: list[dict[str, str]]) -> int:
        """The token reservation for one call: prompt tokens plus max_tokens."""
        return self.gate.worst_case(self.prompt_tokens(messages))[1]

    def prompt_tokens(self, messages: list[dict[str, str]]) -> int:
        """Prompt tokens counted for the budget (an upper bound; see synth.llm.tokens)."""
        if self._counter is None:
            self._counter = TokenCounter(self.config.tokenizer)
        return self._counter.count_messages(messages)

    def is_cached(self, request: LLMRequest, model: type[BaseModel]) -> bool:
        if self.is_offline:
            return False
        return self.services.cache.get(self.request_hash(request, model)) is not None

    async def aclose(self) -> None:
        self.services.flush()
        if self.transport is not None:
            await self.transport.close()

    # ------------------------------------------------------------ paths
    def _offline(self, request: LLMRequest, model: type[BaseModel], stage: str) -> LLMResult:
        if self.offline is None:
            raise LLMError(f"provider offline has no offline answerer for stage {stage!r}")
        key = "offline-" + request.template_hash
        try:
            value = model.model_validate(self.offline(request).model_dump())
        except ValidationError as exc:
            self._log(request, key, stage, "invalid", reason="validation_failed", error=str(exc)[:1500])
            return LLMResult(item_id=request.item_id, status="failed", reason="validation_failed",
                             error=str(exc)[:1500], request_hash=key)
        self._log(request, key, stage, "offline")
        return LLMResult(item_id=request.item_id, status="ok", value=value, request_hash=key)

    def _from_cache(self, request: LLMRequest, model: type[BaseModel], key: str,
                    stage: str) -> LLMResult | None:
        hit = self.services.cache.get(key)
        if hit is None:
            return None
        try:
            value = model.model_validate_json(hit["content"])
        except ValidationError as exc:  # the model changed since: pay again, and say why
            self._log(request, key, stage, "cache_miss", reason="cached_answer_invalid",
                      error=str(exc)[:1500])
            return None
        self._log(request, key, stage, "cached")
        return LLMResult(item_id=request.item_id, status="ok", value=value, cached=True,
                         usage=Usage(**hit["usage"]), request_hash=key)

    async def _ask(self, request: LLMRequest, model: type[BaseModel], key: str, stage: str,
                   cap: float | None) -> LLMResult:
        """At most max_retries+1 attempts for this item, transport faults and re-asks together."""
        messages, tally, avoid = list(request.messages), _Tally(), None
        fault = CallFault("validation_failed", "no answer", False)
        tries = 0
        while tries <= self.config.max_retries:
            strict = self.shape.strict  # what _attempt's body says (built before its first await)
            sent = await self._attempt(request, messages, model, key, stage, cap, tally, avoid)
            if isinstance(sent, LLMResult):
                return sent
            reply, fault, url = sent
            if reply is None:  # a transport fault, logged
                if fault.reason == "schema_rejected" and strict:  # also for calls in flight
                    self.shape.strict = False  # this server has no strict structured output
                    continue
                if fault.fatal:
                    self._fatal = self._fatal or self._fatal_message(url, fault)
                    raise LLMError(self._fatal)
                tries += 1
                if not fault.retryable or tries > self.config.max_retries:
                    break
                avoid = url
                await self._wait_before_retry(tries - 1, fault, url)
                continue
            tries += 1
            value, fault = validate_reply(reply, model, self.config.max_tokens)
            status = "ok" if value is not None else _STATUS.get(fault.reason, fault.reason)
            self._log(request, key, stage, status, attempt=tally.attempts,
                      reason=None if value is not None else fault.reason,
                      error=None if value is not None else fault.message, usage=reply.usage,
                      endpoint=reply.endpoint, latency=reply.latency)
            if value is not None:
                self.services.cache.put(key, reply.content or "", tally.usage.model_dump())
                return self._result(request, key, tally, "ok", value=value)
            if fault.reason == "refusal":
                break
            messages, avoid = reask_messages(messages, reply, fault), None
        return self._result(request, key, tally, "failed", reason=fault.reason, error=fault.message)

    async def _attempt(self, request: LLMRequest, messages: list[dict[str, str]],
                       model: type[BaseModel], key: str, stage: str, cap: float | None,
                       tally: _Tally, avoid: str | None
                       ) -> tuple[Reply | None, CallFault, str] | LLMResult:
        """One HTTP attempt: (reply, _, url), (None, fault, url) logged, or the skipped result."""
        body = self.shape.body(request, messages, model)
        quick = byte_bound(messages)
        exact = functools.partial(self.prompt_tokens, messages)
        await self._respect_pause()
        async with self._slots:
            if self._fatal:  # the endpoint refused us: send nothing more
                raise LLMError(self._fatal)
            reservation = await self.gate.reserve(stage, quick, exact, cap)
            if reservation is None:
                usd, tokens = self.gate.worst_case(exact())
                self._log(request, key, stage, "budget", reason="budget_exhausted")
                return self._result(request, key, tally, "skipped_budget", reason="budget_exhausted",
                                    error=f"reserving ${usd:.6f} / {tokens} tokens would pass the "
                                          "budget cap")
            try:
                reply, fault, latency, url = await self._post(body, avoid)
            except BaseException:  # cancelled mid-call (Ctrl-C, a fatal error elsewhere)
                self.gate.settle_fault(reservation, billed=True)  # it may have been billed
                raise
        self._log_replica_events(request, key, stage)
        tally.attempts += 1
        tally.latency += latency
        if fault is None and reply is not None:
            self._settle(reservation, reply.usage, tally)
            return reply, CallFault("ok", "", False), url
        assert fault is not None
        tally.cost += self.gate.settle_fault(reservation, fault.billed)
        self._log(request, key, stage, "error", attempt=tally.attempts, reason=fault.reason,
                  error=fault.message, endpoint=url, latency=latency)
        return None, fault, url

    async def _post(self, body: dict[str, Any],
                    avoid: str | None = None) -> tuple[Reply | None, CallFault | None, float, str]:
        """One HTTP attempt on a replica in rotation (not `avoid`, when another is in rotation);
        the replica's breaker hears how it went before the replica is released."""
        assert self.transport is not None
        started = time.perf_counter()
        async with self.transport.endpoint(avoid) as endpoint:
            try:
                raw = await endpoint.post(body)
            except openai.APIError as exc:
                fault = classify(exc)
                self._replica(endpoint.url, fault.reason)
                return None, fault, time.perf_counter() - started, endpoint.url
            self._replica(endpoint.url, None)
        latency = time.perf_counter() - started
        try:
            reply = parse_reply(raw)
            reply.endpoint, reply.latency = endpoint.url, latency
            return reply, None, latency, endpoint.url
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            fault = CallFault("bad_response", f"response is not a chat completion: {exc}"[:300], True)
            return None, fault, latency, endpoint.url

    def _replica(self, url: str, fault: str | None) -> None:
        """Tell the replica's breaker how a request went; a change is logged with the item."""
        assert self.transport is not None
        event = self.transport.record(url, fault)
        if event is not None:
            self._replica_events.append((f"replica_{event}", fault, url))

    def _log_replica_events(self, request: LLMRequest, key: str, stage: str) -> None:
        while self._replica_events:
            status, reason, url = self._replica_events.pop(0)
            self._log(request, key, stage, status, reason=reason, endpoint=url)

    def replicas_out(self) -> dict[str, int]:
        """url -> how often it was taken out of rotation in this engine's life."""
        return self.transport.taken_out() if self.transport is not None else {}

    # ------------------------------------------------------------ budget
    @property
    def budget_refused(self) -> bool:
        """True once the cap refused a call (the batch runner then starts nothing new)."""
        return self.gate.refused

    def _settle(self, reservation: Reservation, usage: dict[str, int] | None, tally: _Tally) -> None:
        tally.usage.prompt_tokens += int((usage or {}).get("prompt_tokens", 0))
        tally.usage.completion_tokens += int((usage or {}).get("completion_tokens", 0))
        tally.cost += self.gate.settle(reservation, usage)

    # ------------------------------------------------------------ helpers
    async def _respect_pause(self) -> None:
        wait = self._pause_until - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    async def _wait_before_retry(self, attempt: int, fault: CallFault, url: str) -> None:
        """Backoff, except for a replica fault when another replica is in rotation: go there now."""
        transport = self.transport
        if fault.reason in REPLICA_FAULTS and transport is not None and transport.in_rotation_besides(url):
            return
        delay = self.policy.delay(attempt, fault.retry_after)
        if fault.retry_after is not None:  # the server asked everyone to slow down
            self._pause_until = max(self._pause_until, time.monotonic() + delay)
        await asyncio.sleep(delay)

    def _fatal_message(self, url: str, fault: CallFault) -> str:
        return fatal_message(self.services, self.provider, self.model, self.config.api_key_env, url, fault)

    def _result(self, request: LLMRequest, key: str, tally: _Tally, status: str, **kwargs: Any) -> LLMResult:
        return item_result(self.services, request, key, tally, status, **kwargs)

    def _log(self, request: LLMRequest, key: str, stage: str, status: str, **kwargs: Any) -> None:
        log_call(self.services, self.prices, self.provider, self.model, request, key, stage, status,
                 **kwargs)
