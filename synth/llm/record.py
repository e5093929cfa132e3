"""What the engine writes down about a call: the call-log row, the item's LLMResult, the
message of a refusal that stops the run. Secrets are redacted from every text on the way."""
from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from synth.llm.budget import cost_usd, usage_tokens
from synth.llm.prices import Prices
from synth.llm.retry import CallFault
from synth.llm.services import LLMServices
from synth.llm.types import LLMRequest, LLMResult, Usage


@dataclass
class Tally:
    """One item's attempts, usage, cost and latency so far."""

    attempts: int = 0
    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0
    latency: float = 0.0


def item_result(services: LLMServices, request: LLMRequest, key: str, tally: Tally, status: str,
                value: BaseModel | None = None, reason: str | None = None,
                error: str | None = None) -> LLMResult:
    return LLMResult(item_id=request.item_id, status=status, value=value, reason=reason,
                     error=services.redact(error), usage=tally.usage, cost_usd=tally.cost,
                     latency_s=tally.latency, attempts=tally.attempts, request_hash=key)


def log_call(services: LLMServices, prices: Prices, provider: str, model: str, request: LLMRequest,
             key: str, stage: str, status: str, *, attempt: int = 0, reason: str | None = None,
             error: str | None = None, usage: dict[str, int] | None = None,
             endpoint: str | None = None, latency: float = 0.0, seed: int | None = None) -> None:
    prompt, completion, _ = usage_tokens(usage)
    services.calls.add(
        stage=stage, item_id=request.item_id, request_hash=key, provider=provider, model=model,
        status=status, endpoint=endpoint, attempt=attempt, reason=reason,
        error=services.redact(error), prompt_tokens=prompt, completion_tokens=completion,
        cost_usd=cost_usd(prompt, completion, prices.price_in, prices.price_out), latency_s=latency,
        seed=seed)


def fatal_message(services: LLMServices, provider: str, model: str, api_key_env: str | None,
                  url: str, fault: CallFault) -> str:
    hint = ""
    if fault.reason in ("http_401", "http_403"):
        hint = f"; check the key in env var {api_key_env or '(api_key_env not set)'}"
    elif fault.reason == "http_404":
        hint = f"; check model {model!r} and base_url"
    text = f"{provider} endpoint {url} refused the request: {fault.message}{hint}"
    return services.redact(text) or text
