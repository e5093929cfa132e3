"""The budget: a hard cap under concurrency, persisted across runs, per-stage caps."""
from __future__ import annotations

import pytest
from llm_helpers import KEY, KEY_ENV, Answer, engine_for, llm_config, request

from synth.llm import run_batch
from synth.llm.budget import BudgetLedger, cost_usd
from synth.llm.tokens import TokenCounter

PRICE_IN, PRICE_OUT = 2.0, 8.0  # USD per million tokens


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


def test_ledger_refuses_past_the_cap_and_persists(tmp_path):
    ledger = BudgetLedger(tmp_path / "spend.sqlite", max_usd=1.0)
    first = ledger.reserve("generate", 0.6)
    assert first is not None and ledger.reserve("generate", 0.5) is None
    ledger.settle(first, 0.25)
    second = ledger.reserve("generate", 0.5)  # open reservation, never settled ("killed")
    assert second is not None and ledger.committed() == pytest.approx(0.75)
    ledger.close()
    reopened = BudgetLedger(tmp_path / "spend.sqlite", max_usd=1.0)
    assert reopened.spent() == pytest.approx(0.25) and reopened.committed() == pytest.approx(0.75)
    assert reopened.reserve("generate", 0.3) is None  # the open reservation still counts
    assert reopened.reserve("generate", 0.25) is not None


def test_stage_cap_is_checked_with_the_run_cap(tmp_path):
    ledger = BudgetLedger(tmp_path / "spend.sqlite", max_usd=1.0)
    assert ledger.reserve("judge", 0.3, stage_cap=0.4) is not None
    assert ledger.reserve("judge", 0.2, stage_cap=0.4) is None
    assert ledger.reserve("generate", 0.6) is not None
    assert ledger.reserve("generate", 0.2) is None  # the run cap covers every stage
    assert ledger.by_stage()["judge"]["committed"] == pytest.approx(0.3)


def test_the_reserved_prompt_bound_holds_for_other_tokenizers_and_languages():
    """Without the model's tokenizer the budget reserves by UTF-8 bytes: above the count of
    byte-level BPE (cl100k, the fake server's), of a byte-fallback tokenizer on non-English
    text, where tiktoken x 1.25 (the old near-cap count) is below what the server bills."""
    from fake_llm_server import prompt_tokens

    texts = ["Please answer about feeling stuck in old patterns.", "Ça va? Schön. Ελληνικά",
             "日本語のテキストです。" * 5, "😀🙂🙃" * 10]
    messages = [request(i, text=t).messages for i, t in enumerate(texts)]
    counter = TokenCounter()
    assert all(counter.bound(m) >= prompt_tokens(m) for m in messages)

    def byte_fallback(m):  # every character absent from a small vocabulary: one token a byte
        return sum(len(str(x["content"]).encode("utf-8")) + 4 for x in m) + 3
    assert all(counter.bound(m) >= byte_fallback(m) for m in messages)
    assert any(counter.estimate(m) < byte_fallback(m) for m in messages)  # why the estimate is no bound


async def test_cap_holds_under_concurrency_and_spend_matches_the_server(tmp_path, fake_llm):
    fake_llm.latency_s = 0.05
    config = llm_config(fake_llm.url, concurrency=16, price_in_per_mtok=PRICE_IN,
                        price_out_per_mtok=PRICE_OUT, max_tokens=100)
    per_call = cost_usd(150, 100, PRICE_IN, PRICE_OUT)
    cap = per_call * 25  # room for ~25 worst-case calls out of 200
    results = []
    async with engine_for(tmp_path, config, max_usd=cap) as engine:
        summary = await run_batch(engine, [request(i) for i in range(200)], Answer, results.append,
                                  progress=False)
        committed = engine.services.ledger.committed()
        settled = engine.services.ledger.spent()
    server_spend = fake_llm.spend(PRICE_IN, PRICE_OUT)
    assert summary.stopped == "budget" and summary.skipped_budget >= 1
    assert 10 <= summary.ok < 200 and fake_llm.max_in_flight > 1
    assert server_spend <= cap and committed <= cap + 1e-12
    assert settled == pytest.approx(server_spend) and summary.spend_usd == pytest.approx(server_spend)
    assert fake_llm.answered == summary.ok


async def test_a_resumed_run_continues_the_same_budget(tmp_path, fake_llm):
    config = llm_config(fake_llm.url, price_in_per_mtok=PRICE_IN, price_out_per_mtok=PRICE_OUT)
    async with engine_for(tmp_path, config, max_usd=1.0) as engine:
        await run_batch(engine, [request(i) for i in range(5)], Answer, lambda r: None, progress=False)
        spent = engine.services.ledger.spent()
    assert spent > 0
    async with engine_for(tmp_path, config, max_usd=spent) as engine:  # cap now = what was spent
        result = await engine.call(request(99), Answer)
    assert result.status == "skipped_budget" and result.reason == "budget_exhausted"
    assert fake_llm.count == 5


async def test_zero_budget_refuses_priced_calls_but_allows_free_ones(tmp_path, fake_llm):
    priced = llm_config(fake_llm.url, price_in_per_mtok=PRICE_IN)
    async with engine_for(tmp_path / "a", priced, max_usd=0) as engine:
        assert (await engine.call(request(), Answer)).status == "skipped_budget"
    async with engine_for(tmp_path / "b", llm_config(fake_llm.url), max_usd=0) as engine:
        assert (await engine.call(request(), Answer)).status == "ok"
    assert fake_llm.count == 1


def test_byte_bound_is_above_the_tokenizer_count():
    from synth.llm.tokens import byte_bound

    messages = [request(i, text="Ça va? Schön. 日本語 ok " * (i + 1)).messages for i in range(5)]
    counter = TokenCounter()
    assert all(byte_bound(m) >= counter.estimate(m) / 1.25 for m in messages)
    from fake_llm_server import prompt_tokens
    assert all(byte_bound(m) >= prompt_tokens(m) for m in messages)
