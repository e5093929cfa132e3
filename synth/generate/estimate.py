"""What generating would cost: `synth generate --dry-run`, and what is left after a budget stop.

The worst case bounds what the run can spend: every request's max_retries + 1 attempts, each
the budget's reservation (a prompt bound that holds for any tokenizer + max_tokens), every
re-ask's prompt grown by the answer and error sent back (LLMEngine.worst_case_item), at the
endpoint's prices (synth.llm.prices). The typical case assumes one attempt with a likely prompt
count and a typical answer length. Both are shown in USD and in tokens, for budget.max_usd and
budget.max_tokens.
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
    prompt_tokens: int = 0  # likely prompt tokens of the requests that would be sent (first ask)
    worst_case_usd: float = 0.0  # every attempt and re-ask of every request at its bound
    typical_usd: float = 0.0  # prompt + a typical answer length
    worst_case_tokens: int = 0  # the same in tokens (what budget.max_tokens may have to cover)
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
        prompt = engine.prompt_estimate(request.messages)
        est.prompt_tokens += prompt
        usd, tokens = engine.worst_case_item(request.messages)
        est.worst_case_usd += usd
        est.worst_case_tokens += tokens
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
