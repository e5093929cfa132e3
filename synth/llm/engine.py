"""LLMEngine: the one seam for LLM calls (providers vllm, openai, offline).

`await engine.call(request, ResponseModel)` -> LLMResult (status ok / failed / skipped_budget;
never raises for one item's failure; raises LLMError when the endpoint refuses us: 401, 404,
other non-retryable 4xx). Per call: cache lookup (a hit makes no call), then at most
max_retries+1 HTTP attempts in all (one retry budget per item for transport faults and re-asks,
across replicas), each: reserve the worst case in the budget ledger (USD and tokens, prices
from synth.llm.prices; refused -> skipped_budget), POST to a replica in rotation
(synth.llm.breaker; body and cache key: synth.llm.shape), validate the answer with the pydantic
model (synth.llm.sender sends it; the ray engine on a worker). A transport fault is retried
with backoff + jitter (Retry-After), or at once on another replica in rotation; an invalid or
cut-off answer is re-asked with the error (instructor's JSON_SCHEMA re-ask) and a seed of its
own (RequestShape.attempt_seed: derived from the item and the answer number, so a re-ask can
change the answer and a rerun sends the same seeds). Every attempt (with its seed), every
replica taken out of or put back into rotation (status replica_out / replica_back) and every
usage above its reservation (status overshoot) is in the call log; validated answers go to
the cache.
"""
from __future__ import annotations

import asyncio
import functools
import time
from typing import Any

from pydantic import BaseModel, ValidationError

from synth.config import LLMConfig
from synth.errors import LLMError
from synth.llm.breaker import REPLICA_FAULTS
from synth.llm.budget import BudgetGate, Reservation, usage_tokens
from synth.llm.prices import Prices, resolve_prices
from synth.llm.record import Tally, fatal_message, item_result, log_call
from synth.llm.replies import Reply, next_messages, reask_growth, validate_reply
from synth.llm.retry import CallFault, RetryPolicy
from synth.llm.sender import Sender, Sent
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
        self.sender = Sender(self.transport) if self.transport is not None else None
        self.shape = RequestShape(config, self.urls)
        self.calls_sent = 0  # HTTP requests this engine sent (attempts of finished items)
        services.redact.add_env(config.api_key_env)
        self._counter: TokenCounter | None = None
        self._slots = asyncio.Semaphore(config.concurrency)
        self._pause_until = 0.0
        self._fatal = ""  # set by the first 401/404/...: later calls raise without sending
        # prices: the config's, else the published ones (fails closed before any call)
        section = section or ("judge" if stage == "judge" else "generator")
        self.prices: Prices = resolve_prices(config, services.budget, section)
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

    def worst_case_item(self, messages: list[dict[str, str]]) -> tuple[float, int]:
        """(USD, tokens) one item can cost at most: max_retries + 1 attempts, each the prompt
        bound plus max_tokens, every attempt after the first grown by one answer and error sent
        back (replies.next_messages keeps at most one in the history; a transport fault on a
        re-ask is retried with the same messages, so any later attempt can be a re-ask)."""
        attempts, growth = self.config.max_retries + 1, reask_growth(self.config.max_tokens)
        usd, tokens = self.gate.worst_case(self.prompt_bound(messages))
        grown = growth * (attempts - 1)
        return (attempts * usd + grown * self.prices.price_in / 1e6 if self.gate.priced else 0.0,
                attempts * tokens + grown)

    def prompt_bound(self, messages: list[dict[str, str]]) -> int:
        """Prompt tokens the budget reserves: a bound for any tokenizer (synth.llm.tokens)."""
        return self._tokens().bound(messages)

    def prompt_estimate(self, messages: list[dict[str, str]]) -> int:
        """Likely prompt tokens (for the typical cost; not a bound, see synth.llm.tokens)."""
        return self._tokens().estimate(messages)

    def _tokens(self) -> TokenCounter:
        if self._counter is None:
            self._counter = TokenCounter(self.config.tokenizer)
        return self._counter

    def is_cached(self, request: LLMRequest, model: type[BaseModel]) -> bool:
        if self.is_offline:
            return False
        return self.services.cache.get(self.request_hash(request, model)) is not None

    async def aclose(self) -> None:
        self.services.flush()
        if self.sender is not None:
            await self.sender.close()

    # ------------------------------------------------------------ paths
    def _offline(self, request: LLMRequest, model: type[BaseModel], stage: str) -> LLMResult:
        if self.offline is None:
            raise LLMError(f"provider offline has no offline answerer for stage {stage!r}")
        key = "offline-" + request.template_hash
        try:
            value = model.model_validate(self.offline(request).model_dump(),
                                         context=request.validation_context or None)
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
            value = model.model_validate_json(hit["content"], context=request.validation_context or None)
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
        tries = answers = 0  # answers: replies received so far (each re-ask gets its own seed)
        while tries <= self.config.max_retries:
            strict = self.shape.strict  # what _attempt's body says (built before its first await)
            seed = self.shape.attempt_seed(request, answers)
            sent = await self._attempt(request, messages, model, key, stage, cap, tally, avoid, seed)
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
            tries, answers = tries + 1, answers + 1
            value, fault = validate_reply(reply, model, self.config.max_tokens, request.validation_context)
            status = "ok" if value is not None else _STATUS.get(fault.reason, fault.reason)
            self._log(request, key, stage, status, attempt=tally.attempts,
                      reason=None if value is not None else fault.reason,
                      error=None if value is not None else fault.message, usage=reply.usage,
                      endpoint=reply.endpoint, latency=reply.latency, seed=seed)
            if value is not None:
                self.services.cache.put(key, reply.content or "", tally.usage.model_dump())
                return self._result(request, key, tally, "ok", value=value)
            if fault.reason == "refusal":
                break
            messages, avoid = next_messages(request.messages, messages, reply, fault), None
        return self._result(request, key, tally, "failed", reason=fault.reason, error=fault.message)

    async def _attempt(self, request: LLMRequest, messages: list[dict[str, str]],
                       model: type[BaseModel], key: str, stage: str, cap: float | None,
                       tally: _Tally, avoid: str | None, seed: int
                       ) -> tuple[Reply | None, CallFault, str] | LLMResult:
        """One HTTP attempt: (reply, _, url), (None, fault, url) logged, or the skipped result."""
        body = self.shape.body(request, messages, model, seed)
        quick = byte_bound(messages)
        bound = functools.partial(self.prompt_bound, messages)
        await self._respect_pause()
        async with self._slots:
            if self._fatal:  # the endpoint refused us: send nothing more
                raise LLMError(self._fatal)
            reservation = await self.gate.reserve(stage, quick, bound, cap)
            if reservation is None:
                usd, tokens = self.gate.worst_case(bound())
                self._log(request, key, stage, "budget", reason="budget_exhausted")
                return self._result(request, key, tally, "skipped_budget", reason="budget_exhausted",
                                    error=f"reserving ${usd:.6f} / {tokens} tokens would pass the "
                                          "budget cap")
            try:
                sent = await self._send(body, avoid)
            except BaseException:  # cancelled mid-call (Ctrl-C, a fatal error elsewhere)
                self.gate.settle_fault(reservation, billed=True)  # it may have been billed
                raise
        for status, reason, url in sent.events:  # replicas this attempt took out or put back
            self._log(request, key, stage, status, reason=reason, endpoint=url)
        tally.attempts += 1
        tally.latency += sent.latency
        if sent.fault is None and sent.reply is not None:
            self._settle(reservation, sent.reply.usage, tally, request, key, stage)
            return sent.reply, CallFault("ok", "", False), sent.url
        assert sent.fault is not None
        tally.cost += self.gate.settle_fault(reservation, sent.fault.billed)
        self._log(request, key, stage, "error", attempt=tally.attempts, reason=sent.fault.reason,
                  error=sent.fault.message, endpoint=sent.url, latency=sent.latency, seed=seed)
        return None, sent.fault, sent.url

    async def _send(self, body: dict[str, Any], avoid: str | None = None) -> Sent:
        """One HTTP attempt (synth.llm.sender; the ray engine sends it on a worker)."""
        assert self.sender is not None
        return await self.sender.send(body, avoid)

    def replicas_out(self) -> dict[str, int]:
        """url -> how often it was taken out of rotation in this engine's life."""
        return self.sender.taken_out() if self.sender is not None else {}

    # ------------------------------------------------------------ budget
    @property
    def budget_refused(self) -> bool:
        """True once the cap refused a call (the batch runner then starts nothing new)."""
        return self.gate.refused

    def _settle(self, reservation: Reservation, usage: dict[str, int] | None, tally: _Tally,
                request: LLMRequest, key: str, stage: str) -> None:
        """Settle an answered attempt; usage above its reservation is logged (status overshoot)."""
        prompt, completion, _ = usage_tokens(usage)
        tally.usage.prompt_tokens += prompt
        tally.usage.completion_tokens += completion
        settled = self.gate.settle(reservation, usage)
        tally.cost += settled.usd
        if settled.overshoot:
            self._log(request, key, stage, "overshoot", attempt=tally.attempts,
                      reason="reservation_overshoot", error=settled.overshoot)

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
        self.calls_sent += tally.attempts
        return item_result(self.services, request, key, tally, status, **kwargs)

    def _log(self, request: LLMRequest, key: str, stage: str, status: str, **kwargs: Any) -> None:
        log_call(self.services, self.prices, self.provider, self.model, request, key, stage, status,
                 **kwargs)
