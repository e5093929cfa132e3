"""The LLM engine against the local fake server: every fault, re-ask, cache, replicas."""
from __future__ import annotations

import time

import pytest
from fake_llm_server import FakeLLMServer, Fault
from llm_helpers import KEY, KEY_ENV, Answer, call_rows, engine_for, llm_config, request

from synth.errors import LLMError
from synth.llm import run_batch


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


@pytest.fixture(params=["aiohttp", "sdk"])
def transport(request: pytest.FixtureRequest) -> str:
    """Fault tests run on both transports (direct aiohttp, and AsyncOpenAI.post)."""
    return str(request.param)


async def test_ok_call_is_validated_logged_and_cached(tmp_path, fake_llm, transport):
    async with engine_for(tmp_path, llm_config(fake_llm.url, transport=transport)) as engine:
        result = await engine.call(request(), Answer)
    assert result.status == "ok" and isinstance(result.value, Answer)
    assert result.attempts == 1 and result.usage.prompt_tokens > 0 and not result.cached
    assert fake_llm.count == 1
    body = fake_llm.requests[0]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["properties"].keys() == {"text", "n"}
    rows = call_rows(tmp_path)
    assert [r["status"] for r in rows] == ["ok"] and rows[0]["request_hash"] == result.request_hash


@pytest.mark.parametrize("fault,reason", [
    (Fault.status(500), "http_5xx"), (Fault.status(503), "http_5xx"),
    (Fault("drop"), "connection"), (Fault("malformed_body"), "bad_response"),
    (Fault.status(408), "http_408"),
])
async def test_transient_fault_is_retried(tmp_path, fake_llm, fault, reason, transport):
    fake_llm.queue(fault)
    async with engine_for(tmp_path, llm_config(fake_llm.url, transport=transport)) as engine:
        result = await engine.call(request(), Answer)
    assert result.status == "ok" and result.attempts == 2
    assert fake_llm.count == 2 and fake_llm.answered == 1
    assert [(r["status"], r["reason"]) for r in call_rows(tmp_path)] == [("error", reason), ("ok", None)]


async def test_429_waits_for_retry_after(tmp_path, fake_llm, transport):
    fake_llm.queue(Fault.status(429, retry_after=0.4))
    started = time.perf_counter()
    async with engine_for(tmp_path, llm_config(fake_llm.url, transport=transport)) as engine:
        result = await engine.call(request(), Answer)
    assert result.status == "ok" and time.perf_counter() - started >= 0.4
    assert call_rows(tmp_path)[0]["reason"] == "http_429"


async def test_hang_past_timeout_is_retried(tmp_path, fake_llm, transport):
    fake_llm.queue(Fault.hang(30))
    async with engine_for(tmp_path, llm_config(fake_llm.url, timeout_s=0.3, transport=transport)) as engine:
        result = await engine.call(request(), Answer)
    assert result.status == "ok" and result.attempts == 2
    assert call_rows(tmp_path)[0]["reason"] == "timeout"


async def test_transient_faults_are_bounded(tmp_path, fake_llm):
    fake_llm.fault_fn = lambda index, body: Fault.status(502)
    async with engine_for(tmp_path, llm_config(fake_llm.url, max_retries=2)) as engine:
        result = await engine.call(request(), Answer)
    assert result.status == "failed" and result.reason == "http_5xx" and result.value is None
    assert result.attempts == 3 and fake_llm.count == 3


@pytest.mark.parametrize("kind", ["malformed", "schema_invalid", "length"])
async def test_bad_answer_is_reasked_with_the_error(tmp_path, fake_llm, kind, transport):
    fake_llm.queue(Fault(kind))
    async with engine_for(tmp_path, llm_config(fake_llm.url, transport=transport)) as engine:
        result = await engine.call(request(), Answer)
    assert result.status == "ok" and result.attempts == 2
    first, second = fake_llm.requests
    assert len(second["messages"]) == len(first["messages"]) + 2  # bad answer + correction
    assert second["messages"][-2]["role"] == "assistant"
    assert "Correct your JSON" in second["messages"][-1]["content"]
    expected = {"malformed": "invalid", "schema_invalid": "invalid", "length": "truncated"}[kind]
    assert [r["status"] for r in call_rows(tmp_path)] == [expected, "ok"]


async def test_answer_that_never_validates_fails_without_a_value(tmp_path, fake_llm):
    fake_llm.answer = lambda body: {"text": "ok ok", "n": 99}
    async with engine_for(tmp_path, llm_config(fake_llm.url, max_retries=2)) as engine:
        result = await engine.call(request(), Answer)
    assert result.status == "failed" and result.reason == "validation_failed"
    assert result.value is None and result.attempts == 3 and "less than or equal to 5" in result.error
    assert len(engine.services.cache) == 0


async def test_answer_always_too_long_fails_as_truncated(tmp_path, fake_llm):
    fake_llm.answer = lambda body: {"text": "word " * 400, "n": 1}
    async with engine_for(tmp_path, llm_config(fake_llm.url, max_retries=1, max_tokens=50)) as engine:
        result = await engine.call(request(), Answer)
    assert result.status == "failed" and result.reason == "truncated" and result.attempts == 2


async def test_unknown_model_404_stops_at_once(tmp_path, transport):
    with FakeLLMServer(models={"real-model"}) as server:
        async with engine_for(tmp_path, llm_config(server.url, model="no-such-model", transport=transport)) as engine:
            with pytest.raises(LLMError, match="404.*no-such-model"):
                await engine.call(request(), Answer)
        assert server.count == 1


async def test_the_key_from_the_env_var_is_sent(tmp_path, transport):
    with FakeLLMServer(api_key=KEY) as server:
        async with engine_for(tmp_path, llm_config(server.url, transport=transport)) as engine:
            result = await engine.call(request(), Answer)
    assert result.status == "ok" and server.answered == 1


async def test_bad_key_401_stops_with_a_clear_message_and_no_key(tmp_path, transport):
    with FakeLLMServer(api_key="sk-the-right-key-0000") as server:
        async with engine_for(tmp_path, llm_config(server.url, transport=transport)) as engine:
            with pytest.raises(LLMError) as info:
                await run_batch(engine, [request(i) for i in range(20)], Answer, lambda r: None,
                                progress=False)
        assert server.count <= engine.config.concurrency  # stopped at once, no retries
    message = str(info.value)
    assert "401" in message and KEY_ENV in message and KEY not in message


async def test_one_in_five_failing_server_still_answers_everything(tmp_path, fake_llm):
    fake_llm.every(5)
    results = []
    async with engine_for(tmp_path, llm_config(fake_llm.url)) as engine:
        summary = await run_batch(engine, [request(i) for i in range(60)], Answer, results.append,
                                  progress=False)
    assert summary.ok == 60 and summary.failed == 0 and len(results) == 60
    assert fake_llm.faulted >= 12 and summary.calls == fake_llm.count


async def test_replicas_share_the_load(tmp_path, transport):
    with FakeLLMServer(latency_s=0.02) as a, FakeLLMServer(latency_s=0.02) as b:
        async with engine_for(tmp_path, llm_config([a.url, b.url], transport=transport)) as engine:
            summary = await run_batch(engine, [request(i) for i in range(40)], Answer, lambda r: None,
                                      progress=False)
        assert summary.ok == 40 and a.count + b.count == 40
        assert min(a.count, b.count) >= 12


async def test_cache_answers_repeats_and_one_changed_parameter_resends_only_its_requests(tmp_path, fake_llm):
    items = [request(i) for i in range(6)]
    async with engine_for(tmp_path, llm_config(fake_llm.url)) as engine:
        await run_batch(engine, items, Answer, lambda r: None, progress=False)
    assert fake_llm.count == 6
    async with engine_for(tmp_path, llm_config(fake_llm.url)) as engine:  # a rerun: all cached
        summary = await run_batch(engine, items, Answer, lambda r: None, progress=False)
    assert fake_llm.count == 6 and summary.cached == 6
    changed = [request(0, template_hash="t2"), *items[1:5], request(5, text="a different question")]
    async with engine_for(tmp_path, llm_config(fake_llm.url)) as engine:
        await run_batch(engine, changed, Answer, lambda r: None, progress=False)
    assert fake_llm.count == 8  # only item 0 (template hash) and item 5 (message) were re-sent
    async with engine_for(tmp_path, llm_config(fake_llm.url, temperature=0.3)) as engine:
        await run_batch(engine, items, Answer, lambda r: None, progress=False)
    assert fake_llm.count == 14  # a sampling parameter touches every request


async def test_cached_answer_that_no_longer_validates_is_logged_as_a_miss_with_its_reason(tmp_path, fake_llm):
    async with engine_for(tmp_path, llm_config(fake_llm.url)) as engine:
        first = await engine.call(request(), Answer)
        engine.services.cache.put(first.request_hash, '{"text": "ok", "n": 99}',
                                  first.usage.model_dump())  # what an older response model accepted
        again = await engine.call(request(), Answer)
    assert again.status == "ok" and not again.cached and fake_llm.count == 2
    rows = call_rows(tmp_path)
    assert [r["status"] for r in rows] == ["ok", "cache_miss", "ok"]
    assert rows[1]["reason"] == "cached_answer_invalid" and "n" in rows[1]["error"]
