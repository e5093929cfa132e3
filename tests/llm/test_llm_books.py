"""The seam's books: re-asks that can change the answer, settlements that never undercount,
a worst case that covers re-asks, a dollar cap that must bind, one settled total."""
from __future__ import annotations

import pytest
from fake_llm_server import Fault
from llm_helpers import KEY, KEY_ENV, Answer, call_rows, engine_for, llm_config, request

from synth.config import BudgetConfig
from synth.errors import ConfigError
from synth.llm import LLMEngine, LLMServices
from synth.llm.budget import BudgetGate, BudgetLedger, read_spend
from synth.llm.calllog import read_reask_outcomes
from synth.rundir import RunDir

PRICE_IN, PRICE_OUT = 2.0, 8.0


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


def seeded(i: int, seed: int = 1234):
    return request(i).model_copy(update={"seed": seed})


async def test_a_reask_sends_a_new_seed_and_can_change_the_answer(tmp_path, fake_llm):
    """A deterministic server answers the same seed the same way: the first seed's answer is
    invalid, so only a re-ask with another seed can fix it (as on llama.cpp, issue 17)."""
    fake_llm.answer = lambda body: {"text": "same", "n": 9} if body["seed"] == 1234 else {"text": "new", "n": 2}
    async with engine_for(tmp_path, llm_config(fake_llm.url, max_retries=3)) as engine:
        result = await engine.call(seeded(0), Answer)
        key = engine.request_hash(seeded(0), Answer)
        again = engine.shape.attempt_seed(seeded(0), 1)
    assert result.status == "ok" and result.value.text == "new" and result.attempts == 2
    seeds = [body["seed"] for body in fake_llm.requests]
    assert seeds == [1234, again] and again != 1234
    rows = call_rows(tmp_path)
    assert [(r["attempt"], r["status"], r["seed"]) for r in rows] == [(1, "invalid", 1234), (2, "ok", again)]
    assert rows[1]["request_hash"] == key  # the cache key is the first seed's, unchanged
    assert read_reask_outcomes(tmp_path / "calls.sqlite") == {
        "items": 1, "first_invalid": 1, "fixed_by_reask": 1, "same_seed_reasks": 0}


async def test_a_failed_reask_is_followed_by_a_fresh_ask(tmp_path, fake_llm):
    """A model that copies its own bad answer once shown it (SmolLM2-135M on llama.cpp sent the
    same repeated question back on three re-asks in a row): the history holds at most one bad
    answer, so every other attempt is a fresh ask with its own seed, which a sampler can fix."""
    first = seeded(0).messages

    def answer(body):  # shown its own answer, it copies it; the first seed's answer is bad
        copies = len(body["messages"]) > len(first)
        return {"text": "same", "n": 9} if copies or body["seed"] == 1234 else {"text": "new", "n": 2}

    fake_llm.answer = answer
    async with engine_for(tmp_path, llm_config(fake_llm.url, max_retries=3)) as engine:
        result = await engine.call(seeded(0), Answer)
    sizes = [len(body["messages"]) for body in fake_llm.requests]
    n = len(first)
    assert sizes == [n, n + 2, n] and result.status == "ok" and result.value.text == "new"
    assert len({body["seed"] for body in fake_llm.requests}) == 3  # each attempt its own seed
    assert read_reask_outcomes(tmp_path / "calls.sqlite")["fixed_by_reask"] == 1


async def test_reasks_and_fresh_asks_alternate_until_the_retries_run_out(tmp_path, fake_llm):
    fake_llm.answer = lambda body: {"text": "bad", "n": 9}
    async with engine_for(tmp_path, llm_config(fake_llm.url, max_retries=4)) as engine:
        result = await engine.call(seeded(0), Answer)
    n = len(seeded(0).messages)
    assert [len(body["messages"]) for body in fake_llm.requests] == [n, n + 2, n, n + 2, n]
    assert result.status == "failed" and result.attempts == 5


def test_reask_seeds_are_reproducible_and_differ_per_item_and_attempt(tmp_path):
    services = LLMServices(RunDir(tmp_path), BudgetConfig(max_usd=None))
    try:
        shape = LLMEngine(llm_config("http://127.0.0.1:9/v1"), services, connect=False).shape
        seeds = {(i, n): shape.attempt_seed(seeded(i), n) for i in range(3) for n in range(4)}
        assert all(seeds[(i, 0)] == 1234 for i in range(3))  # the first ask: the request's seed
        assert len(set(seeds.values())) == 3 * 3 + 1 and all(0 <= s < 2**31 for s in seeds.values())
        assert seeds == {(i, n): shape.attempt_seed(seeded(i), n) for i in range(3) for n in range(4)}
    finally:
        services.close()


async def test_reask_outcomes_count_what_reasks_fix(tmp_path, fake_llm):
    fake_llm.queue(Fault("schema_invalid"))  # item 0: invalid first, fixed by the re-ask
    fake_llm.answer = lambda body: ({"text": "bad", "n": 9} if "item 1" in body["messages"][1]["content"]
                                    else {"text": "fine", "n": 1})  # item 1: never valid
    async with engine_for(tmp_path, llm_config(fake_llm.url, max_retries=2, concurrency=1)) as engine:
        first = await engine.call(request(0), Answer)
        second = await engine.call(request(1), Answer)
        third = await engine.call(request(2), Answer)
    assert (first.status, second.status, third.status) == ("ok", "failed", "ok")
    assert read_reask_outcomes(tmp_path / "calls.sqlite") == {
        "items": 3, "first_invalid": 2, "fixed_by_reask": 1, "same_seed_reasks": 0}
    from synth.status import run_status

    assert run_status(RunDir(tmp_path))["generate_reasks"]["fixed_by_reask"] == 1  # stage generate


def test_usage_without_token_counts_settles_at_the_reservation(tmp_path):
    ledger = BudgetLedger(tmp_path / "spend.sqlite", max_usd=10.0, max_tokens=10_000)
    gate = BudgetGate(ledger, PRICE_IN, PRICE_OUT, max_output=200)
    for usage in (None, {}, {"total_tokens": 40}, {"prompt_tokens": 30}, {"prompt_tokens": None,
                                                                            "completion_tokens": 5}):
        usd, tokens = gate.worst_case(100)
        reservation = ledger.reserve("generate", usd, tokens=tokens)
        assert reservation is not None
        settled = gate.settle(reservation, usage)
        assert settled.usd == pytest.approx(usd) and settled.overshoot is None
    assert ledger.spent_tokens() == 5 * 300 and ledger.spent() == pytest.approx(5 * gate.worst_case(100)[0])
    assert ledger.committed_tokens() == ledger.spent_tokens()  # nothing left open


def test_usage_above_the_reservation_settles_as_reported_and_says_so(tmp_path):
    ledger = BudgetLedger(tmp_path / "spend.sqlite", max_usd=None, max_tokens=10_000)
    gate = BudgetGate(ledger, 0.0, 0.0, max_output=200)
    reservation = ledger.reserve("generate", 0.0, tokens=300)
    settled = gate.settle(reservation, {"prompt_tokens": 250, "completion_tokens": 120})
    assert settled.overshoot and "250 prompt + 120 completion" in settled.overshoot
    assert "300 tokens" in settled.overshoot
    assert ledger.spent_tokens() == 370


async def test_an_overshoot_is_in_the_call_log(tmp_path, fake_llm, monkeypatch):
    from synth.llm import engine as engine_module

    monkeypatch.setattr(engine_module, "byte_bound", lambda messages: 1)  # a bound that fails
    config = llm_config(fake_llm.url, price_in_per_mtok=PRICE_IN, price_out_per_mtok=PRICE_OUT)
    async with engine_for(tmp_path, config, max_usd=10.0) as engine:
        monkeypatch.setattr(engine, "prompt_bound", lambda messages: 1)
        result = await engine.call(request(0, text="feeling stuck again " * 100), Answer)
    assert result.status == "ok"
    rows = call_rows(tmp_path)
    assert [r["status"] for r in rows] == ["overshoot", "ok"]  # settled before it is validated
    assert rows[0]["reason"] == "reservation_overshoot" and "reserved" in rows[0]["error"]
    spend = read_spend(tmp_path / "spend.sqlite")
    server = fake_llm.usage["prompt_tokens"] + fake_llm.usage["completion_tokens"]
    assert spend["tokens"] == server > 201 and spend["open_tokens"] == 0


async def test_unpriced_vllm_with_only_a_dollar_cap_is_refused(tmp_path, fake_llm):
    unpriced = llm_config(fake_llm.url, provider="vllm", price_in_per_mtok=None, price_out_per_mtok=None)
    with pytest.raises(ConfigError, match=r"cannot bind.*budget\.max_tokens") as caught:
        async with engine_for(tmp_path / "a", unpriced, max_usd=5.0):
            pass
    assert caught.value.key == "budget.max_tokens" and fake_llm.count == 0
    async with engine_for(tmp_path / "b", unpriced, max_usd=5.0, max_tokens=10_000) as engine:
        assert (await engine.call(request(), Answer)).status == "ok"  # the token cap binds
    async with engine_for(tmp_path / "c", unpriced, max_usd=None) as engine:
        assert engine.prices.source == "local"  # no cap at all, as the config says


async def test_worst_case_item_covers_every_reask(tmp_path, fake_llm):
    """Every answer invalid: max_retries + 1 attempts, each prompt longer than the last; the
    dry run's per-item worst case stays above what the server billed."""
    fake_llm.answer = lambda body: {"text": "w" * 40, "n": 9}
    config = llm_config(fake_llm.url, max_retries=3, price_in_per_mtok=PRICE_IN, price_out_per_mtok=PRICE_OUT)
    async with engine_for(tmp_path, config, max_usd=10.0) as engine:
        usd, tokens = engine.worst_case_item(request().messages)
        one_usd, one_tokens = engine.gate.worst_case(engine.prompt_bound(request().messages))
        result = await engine.call(request(), Answer)
    assert result.status == "failed" and result.attempts == 4
    billed = fake_llm.usage["prompt_tokens"] + fake_llm.usage["completion_tokens"]
    assert tokens >= billed and usd >= fake_llm.spend(PRICE_IN, PRICE_OUT)
    assert tokens > 4 * one_tokens and usd > 4 * one_usd  # the re-asks' longer prompts counted


def test_status_and_the_generate_summary_print_one_settled_total(tmp_path):
    """Open reservations (a killed call) are shown apart from the settled total, in both."""
    ledger = BudgetLedger(tmp_path / "spend.sqlite", max_usd=None, max_tokens=10_000)
    done = ledger.reserve("generate:x", 0.0, tokens=500)
    ledger.settle(done, 0.0, 420)
    ledger.reserve("judge", 0.0, tokens=300)  # never settled
    assert ledger.totals() == read_spend(tmp_path / "spend.sqlite")
    ledger.close()
    from synth.status import run_status

    status = run_status(RunDir(tmp_path))
    assert (status["tokens"], status["open_reserved_tokens"]) == (420, 300)


def test_generate_refuses_an_unpriced_vllm_run_with_only_a_dollar_cap(tmp_path, fake_llm, capsys):
    """Exit 2 before any call, the dry run too, naming the key that would cap it."""
    from generate_fixture import gen_config_file, make_segments

    from synth.cli import main
    from synth.files import write_jsonl

    run_dir = tmp_path / "run"
    config = gen_config_file(run_dir, fake_llm.url, **{
        "generator.provider": "vllm", "generator.price_in_per_mtok": None,
        "generator.price_out_per_mtok": None, "budget.max_usd": 5})
    run_dir.mkdir(parents=True)
    write_jsonl(run_dir / "segments.jsonl", make_segments(2))
    for extra in (["--dry-run"], ["--no-progress"]):
        assert main(["generate", str(config), *extra]) == 2
        assert "budget.max_tokens" in capsys.readouterr().err
    assert fake_llm.count == 0
    assert main(["generate", str(config), "--no-progress", "--set", "budget.max_tokens=1000000"]) == 0
