"""What generating would cost: `synth generate --dry-run`, and what is left after a budget stop.

The worst case is what the budget reserves (prompt tokens + max_tokens per request, at the
endpoint's prices, see synth.llm.prices); the typical case assumes a typical answer length.
Both are shown in USD and in tokens, for budget.max_usd and budget.max_tokens.
"""
from __future__ import annotations

from pydantic import BaseModel

from synth.config import BudgetConfig
from synth.errors import BudgetExceeded
from synth.llm import LLMEngine, LLMRequest

TYPICAL_TOKENS_PER_QUESTION = 45  # for the typical-cost estimate; the worst case uses max_tokens


class CostEstimate(BaseModel):
    segments: int = 0
    cached: int = 0  # answered from the cache: cost 0
    prompt_tokens: int = 0  # of the requests that would be sent (with the safety margin)
    worst_case_usd: float = 0.0  # what the budget reserves: prompt + max_tokens per request
    typical_usd: float = 0.0  # prompt + a typical answer length
    worst_case_tokens: int = 0  # prompt + max_tokens per request (what budget.max_tokens reserves)
    typical_tokens: int = 0
    price_source: str = ""  # config, genai-prices <version>, local, offline, unknown


def estimate_cost(engine: LLMEngine, requests: list[LLMRequest], model: type[BaseModel],
                  k: int) -> CostEstimate:
    cfg = engine.config
    est = CostEstimate(segments=len(requests), price_source=engine.prices.source)
    if engine.is_offline:
        return est  # no model, no cost
    typical_out = min(cfg.max_tokens, TYPICAL_TOKENS_PER_QUESTION * (k + 1))
    price_in, price_out = engine.prices.price_in, engine.prices.price_out
    for request in requests:
        if engine.is_cached(request, model):
            est.cached += 1
            continue
        prompt = engine.prompt_tokens(request.messages)
        est.prompt_tokens += prompt
        est.worst_case_usd += engine.worst_case_usd(request.messages)
        est.worst_case_tokens += prompt + cfg.max_tokens
        est.typical_usd += (prompt * price_in + typical_out * price_out) / 1e6
        est.typical_tokens += prompt + typical_out
    return est


def caps(budget: BudgetConfig) -> str:
    """The caps in words, e.g. "$5.00 and 2,000,000 tokens"."""
    parts = [f"${budget.max_usd:,.2f}" if budget.max_usd >= 1 else f"${budget.max_usd:g}"] \
        if budget.max_usd is not None else []
    if budget.max_tokens is not None:
        parts.append(f"{budget.max_tokens:,} tokens")
    return " and ".join(parts) or "none"


def budget_error(budget: BudgetConfig, committed_usd: float, committed_tokens: int,
                 remaining_segments: int, left: CostEstimate | None) -> BudgetExceeded:
    left = left or CostEstimate()
    raise_what = " or ".join(k for k, v in (("budget.max_usd", budget.max_usd),
                                             ("budget.max_tokens", budget.max_tokens)) if v is not None)
    return BudgetExceeded(
        f"budget cap {caps(budget)} reached (committed ${committed_usd:.4f}, {committed_tokens:,} "
        f"tokens); {remaining_segments} segment(s) left, about ${left.typical_usd:.4f} / "
        f"{left.typical_tokens:,} tokens to finish (worst case ${left.worst_case_usd:.4f} / "
        f"{left.worst_case_tokens:,} tokens). Pairs so far are saved: raise {raise_what} and rerun "
        "the same command to resume.")
