"""Model prices for the budget: the config's prices, else the published table of genai-prices.

- `price_in_per_mtok` / `price_out_per_mtok` in the endpoint's config always win (either one
  set: the other is 0; both 0: the endpoint is free).
- provider `offline` and `vllm` / `ray_vllm` (a local server, the cluster's GPUs) cost nothing
  unless the config prices them; `budget.max_tokens` caps them. An unpriced `vllm` / `ray_vllm`
  endpoint with a dollar cap and no token cap is a config error before any call: the dollar
  cap cannot bind, and the run would have no cap at all (never an uncapped run unless
  `budget.max_usd: null` says so).
- provider `openai` (a hosted API) without config prices: the model's price from genai-prices
  (pydantic/genai-prices, a maintained table of hosted model prices), matched by base_url and
  model name. A model it does not know, with a dollar cap (`budget.max_usd`), is a config
  error before any call (fail closed: never an uncapped run); with `max_usd: null` the run
  goes on unpriced.
"""
from __future__ import annotations

from dataclasses import dataclass

from synth.config import BudgetConfig, LLMConfig
from synth.errors import ConfigError

PER = 1_000  # tokens priced per lookup; per-MTok rate = price of PER tokens * 1000


@dataclass(frozen=True)
class Prices:
    price_in: float  # USD per million input tokens
    price_out: float  # USD per million output tokens
    source: str  # config, genai-prices <version>, local, offline, unknown


def resolve_prices(llm: LLMConfig, budget: BudgetConfig, section: str) -> Prices:
    """The prices the budget uses for one endpoint (see the module docstring)."""
    max_usd = budget.max_usd
    if llm.price_in_per_mtok is not None or llm.price_out_per_mtok is not None:
        return Prices(llm.price_in_per_mtok or 0.0, llm.price_out_per_mtok or 0.0, "config")
    if llm.provider == "offline":
        return Prices(0.0, 0.0, "offline")
    if llm.provider != "openai":
        if max_usd is not None and budget.max_tokens is None:
            raise ConfigError(
                f"{section}.provider {llm.provider} has no price, so the ${max_usd:g} dollar cap "
                "(budget.max_usd) cannot bind and the run would have no cap; set "
                "budget.max_tokens (input + output tokens of every stage), or price the endpoint "
                f"({section}.price_in_per_mtok / price_out_per_mtok), or budget.max_usd: null to "
                "run without a cap", key="budget.max_tokens")
        return Prices(0.0, 0.0, "local")
    found = published_prices(llm.model, _first_url(llm))
    if found is not None:
        return found
    if max_usd is None:
        return Prices(0.0, 0.0, "unknown")
    raise ConfigError(
        f"no published price for model {llm.model!r} (genai-prices does not know it), so the "
        f"${max_usd:g} budget cap cannot be enforced; set {section}.price_in_per_mtok and "
        f"{section}.price_out_per_mtok (USD per million tokens), or budget.max_usd: null for no "
        "dollar cap (budget.max_tokens still caps tokens)", key=f"{section}.price_in_per_mtok")


def published_prices(model: str, base_url: str | None) -> Prices | None:
    """The model's published per-MTok prices from genai-prices, or None when it is unknown."""
    import genai_prices

    usage = genai_prices.Usage(input_tokens=PER, output_tokens=PER)
    for where in ({"provider_api_url": base_url} if base_url else None, {}):
        if where is None:
            continue
        try:
            price = genai_prices.calc_price(usage, model_ref=model, **where)
        except LookupError:
            continue
        scale = 1_000_000 / PER
        return Prices(float(price.input_price) * scale, float(price.output_price) * scale,
                      f"genai-prices {genai_prices.__version__}")
    return None


def _first_url(llm: LLMConfig) -> str | None:
    urls = llm.base_url if isinstance(llm.base_url, list) else [llm.base_url]
    return next((u for u in urls if u), None)
