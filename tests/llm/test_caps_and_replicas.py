"""Budget on every provider (published prices, token cap), replicas that fail, strict output."""
from __future__ import annotations

import pytest
from fake_llm_server import FakeLLMServer, Fault, refused_url
from llm_helpers import KEY, KEY_ENV, Answer, call_rows, engine_for, llm_config, request

from synth.errors import ConfigError
from synth.llm import run_batch
from synth.llm.budget import BudgetLedger


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


async def test_unknown_price_with_a_dollar_cap_refuses_before_any_call(tmp_path, fake_llm):
    config = llm_config(fake_llm.url, price_in_per_mtok=None, price_out_per_mtok=None)
    with pytest.raises(ConfigError, match=r"generator\.price_in_per_mtok.*price_out_per_mtok"):
        async with engine_for(tmp_path, config, max_usd=1.0):
            pass
    assert fake_llm.count == 0


async def test_published_price_is_used_and_config_prices_override(tmp_path, fake_llm):
    from genai_prices import Usage, calc_price

    config = llm_config(fake_llm.url, model="gpt-4o-mini", price_in_per_mtok=None,
                        price_out_per_mtok=None)
    async with engine_for(tmp_path / "a", config, max_usd=1.0) as engine:
        result = await engine.call(request(), Answer)
        assert engine.prices.source.startswith("genai-prices")
    published = calc_price(Usage(input_tokens=fake_llm.usage["prompt_tokens"],
                                 output_tokens=fake_llm.usage["completion_tokens"]),
                           model_ref="gpt-4o-mini", provider_id="openai")
    assert result.cost_usd == pytest.approx(float(published.total_price)) and result.cost_usd > 0
    priced = llm_config(fake_llm.url, model="gpt-4o-mini", price_in_per_mtok=1.0, price_out_per_mtok=None)
    async with engine_for(tmp_path / "b", priced, max_usd=1.0) as engine:
        assert (engine.prices.price_in, engine.prices.price_out, engine.prices.source) == (1.0, 0.0, "config")
    async with engine_for(tmp_path / "c", llm_config(fake_llm.url, price_in_per_mtok=None,
                                                     price_out_per_mtok=None), max_usd=None) as engine:
        assert engine.prices.source == "unknown"  # no dollar cap: runs unpriced


async def test_token_cap_holds_at_the_server_under_64_in_flight(tmp_path, fake_llm):
    fake_llm.latency_s = 0.05
    cap = 8_000
    config = llm_config(fake_llm.url, provider="vllm", concurrency=64, max_tokens=100)
    results = []
    async with engine_for(tmp_path, config, max_usd=None, max_tokens=cap) as engine:
        summary = await run_batch(engine, [request(i) for i in range(400)], Answer, results.append,
                                  progress=False)
        committed = engine.services.ledger.committed_tokens()
        settled = engine.services.ledger.spent_tokens()
    server_tokens = fake_llm.usage["prompt_tokens"] + fake_llm.usage["completion_tokens"]
    assert summary.stopped == "budget" and 50 <= summary.ok < 400
    assert fake_llm.max_in_flight > 16
    assert server_tokens <= cap and committed <= cap and settled == server_tokens
    reopened = BudgetLedger(tmp_path / "spend.sqlite", max_usd=None, max_tokens=cap)
    assert reopened.spent_tokens() == server_tokens  # persisted: a resumed run continues it
    reopened.close()


async def test_one_of_three_replicas_refusing_connections_gives_zero_failures(tmp_path):
    with FakeLLMServer(latency_s=0.02) as a, FakeLLMServer(latency_s=0.02) as b:
        dead = refused_url()
        config = llm_config([a.url, dead, b.url], concurrency=32, max_retries=2)
        async with engine_for(tmp_path, config) as engine:
            summary = await run_batch(engine, [request(i) for i in range(300)], Answer, lambda r: None,
                                      progress=False)
            out = engine.replicas_out()
        assert summary.ok == 300 and summary.failed == 0
        assert a.answered + b.answered == 300 and min(a.answered, b.answered) >= 100
    assert dead in out and set(out) == {dead}
    rows = call_rows(tmp_path)
    assert next(r["endpoint"] for r in rows if r["status"] == "replica_out") == dead
    refused = sum(1 for r in rows if r["endpoint"] == dead and r["status"] == "error")
    assert refused < 40  # out of rotation after a few refusals, probed now and then


async def test_refused_connections_cost_nothing_in_the_ledger(tmp_path):
    """A refused connection sent nothing: its reservation is released, not kept at worst case
    (a dead replica must not eat the budget). Regression: spend was 2.4x the server's bill."""
    with FakeLLMServer() as live:
        config = llm_config([live.url, refused_url()], concurrency=16, max_retries=3,
                            price_in_per_mtok=1.0, price_out_per_mtok=2.0)
        async with engine_for(tmp_path, config, max_usd=10.0, max_tokens=10**9) as engine:
            summary = await run_batch(engine, [request(i) for i in range(60)], Answer, lambda r: None,
                                      progress=False)
            usd, tokens = engine.services.ledger.committed(), engine.services.ledger.committed_tokens()
        assert summary.failed == 0 and any(r["reason"] == "connection" for r in call_rows(tmp_path))
        assert usd == pytest.approx(live.spend(1.0, 2.0))
        assert tokens == live.usage["prompt_tokens"] + live.usage["completion_tokens"]


async def test_a_replica_that_answers_again_comes_back(tmp_path):
    with FakeLLMServer() as a, FakeLLMServer() as b:
        b.fault_fn = lambda i, body: Fault.status(503) if i <= 3 else None
        config = llm_config([a.url, b.url], concurrency=1, max_retries=3)
        async with engine_for(tmp_path, config) as engine:
            for i in range(6):
                assert (await engine.call(request(i), Answer)).status == "ok"
            breaker = engine.transport.breakers[1]
            breaker.open_until = 0.0  # the cooldown is over: the next pick probes it
            for i in range(6, 12):
                assert (await engine.call(request(i), Answer)).status == "ok"
        assert breaker.trips == 1 and breaker.closed() and b.answered >= 1
    statuses = [r["status"] for r in call_rows(tmp_path)]
    assert "replica_out" in statuses and "replica_back" in statuses


async def test_one_retry_budget_per_item_across_faults_and_reasks(tmp_path, fake_llm):
    fake_llm.fault_fn = lambda i, body: Fault.status(502) if i % 2 else Fault("schema_invalid")
    async with engine_for(tmp_path, llm_config(fake_llm.url, max_retries=3)) as engine:
        result = await engine.call(request(), Answer)
    assert result.status == "failed" and result.attempts == 4 and fake_llm.count == 4


async def test_strict_schema_on_hosted_api_and_plain_schema_where_rejected(tmp_path, fake_llm):
    async with engine_for(tmp_path / "a", llm_config(fake_llm.url)) as engine:
        assert (await engine.call(request(), Answer)).status == "ok"
    fmt = fake_llm.requests[-1]["response_format"]["json_schema"]
    assert fmt["strict"] is True and fmt["schema"]["additionalProperties"] is False
    fake_llm.reject_strict = True
    fake_llm.reset_stats()
    async with engine_for(tmp_path / "b", llm_config(fake_llm.url, max_retries=0)) as engine:
        results = [await engine.call(request(i), Answer) for i in range(3)]
    assert all(r.status == "ok" for r in results) and fake_llm.count == 4  # one 400, then plain
    assert "strict" not in fake_llm.requests[-1]["response_format"]["json_schema"]
    async with engine_for(tmp_path / "c", llm_config(fake_llm.url, provider="vllm")) as engine:
        assert engine.shape.strict is False


async def test_strict_rejected_with_many_calls_in_flight_falls_back_for_each(tmp_path, fake_llm):
    """Regression: calls already in flight with the strict schema when the first 400 arrived
    stopped the run (exit 4) instead of going plain too."""
    fake_llm.reject_strict = True
    fake_llm.latency_s = 0.05
    config = llm_config(fake_llm.url, concurrency=16, max_retries=0)
    async with engine_for(tmp_path, config) as engine:
        summary = await run_batch(engine, [request(i) for i in range(40)], Answer, lambda r: None,
                                  progress=False)
    assert summary.ok == 40 and summary.failed == 0
    assert fake_llm.answered == 40 and fake_llm.max_in_flight > 1
