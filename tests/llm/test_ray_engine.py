"""The ray engine on a local Ray (2 CPUs) against the fake server: cap, lost workers, errors."""
from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal

import pytest
from fake_llm_server import request_key
from llm_helpers import Answer, call_rows, llm_config, request

from synth.config import BudgetConfig, EngineConfig
from synth.errors import ConfigError, LLMError
from synth.llm import LLMServices, run_batch
from synth.llm.budget import read_spend
from synth.llm.ray_dispatch import RayEngine
from synth.rundir import RunDir

PRICE_IN, PRICE_OUT = 2.0, 8.0


@contextlib.asynccontextmanager
async def ray_engine(root, config, workers=4, max_usd=100.0):
    services = LLMServices(RunDir(root), BudgetConfig(max_usd=max_usd))
    try:
        engine = await asyncio.to_thread(RayEngine, config, services, EngineConfig(kind="ray", workers=workers))
        try:
            yield engine
        finally:
            await engine.aclose()
    finally:
        services.close()


def cfg(url, **kw):
    return llm_config(url, api_key_env=None, provider="vllm", **kw)


async def test_cap_holds_with_4_workers_x_32_in_flight(tmp_path, fake_llm, local_ray):
    fake_llm.latency_s = 0.2
    config = cfg(fake_llm.url, concurrency=32, max_tokens=48, price_in_per_mtok=PRICE_IN,
                 price_out_per_mtok=PRICE_OUT)
    cap = 0.1  # ~$0.0003 a call as answered, ~$0.0005 worst case: 128 in flight fit, 600 calls do not
    results = []
    async with ray_engine(tmp_path, config, max_usd=cap) as engine:
        summary = await run_batch(engine, [request(i) for i in range(600)], Answer, results.append,
                                  progress=False)
    assert summary.stopped == "budget" and summary.ok >= 100
    assert fake_llm.spend(PRICE_IN, PRICE_OUT) <= cap  # what the server billed
    assert read_spend(tmp_path / "spend.sqlite")["committed_usd"] <= cap + 1e-12
    assert 64 < fake_llm.max_in_flight <= 128


async def test_a_worker_killed_mid_run_loses_nothing_and_resends_only_its_calls_in_flight(
        tmp_path, fake_llm, local_ray):
    """A call in flight on the killed worker may have been answered (and billed) before it died:
    it is sent again, within the ledger (its worst case stays reserved). Nothing else is sent
    twice, and no saved answer is paid again on a rerun."""
    fake_llm.latency_s = 0.1
    config = cfg(fake_llm.url, concurrency=8, price_in_per_mtok=PRICE_IN, price_out_per_mtok=PRICE_OUT)
    results = []
    async with ray_engine(tmp_path, config, workers=2) as engine:
        victim = engine.pool.info[0]["pid"]

        def on_result(result):
            results.append(result)
            if len(results) == 40:
                os.kill(victim, signal.SIGKILL)
        summary = await run_batch(engine, [request(i) for i in range(200)], Answer, on_result,
                                  progress=False)
    assert summary.ok == 200 and sorted(r.item_id for r in results) == sorted(f"item-{i}" for i in range(200))
    lost = [r for r in call_rows(tmp_path) if r["reason"] == "worker_lost"]
    assert 1 <= len(lost) <= 8 + 2  # the calls in flight on the killed worker (+ a race)
    item_of = {request_key(body): re.search(r"item (\d+)", body["messages"][-1]["content"]).group(1)
               for body in fake_llm.requests}
    twice = [item_of[key] for key, n in fake_llm.answered_keys.items() for _ in range(n - 1)]
    assert {f"item-{i}" for i in twice} <= {r["item_id"] for r in lost}  # the lost calls, no other
    assert len(twice) <= len(lost)  # each lost call answered at most once more
    spend = read_spend(tmp_path / "spend.sqlite")
    assert spend["committed_usd"] >= fake_llm.spend(PRICE_IN, PRICE_OUT) - 1e-12  # lost calls kept their worst case
    fake_llm.reset_stats()
    async with ray_engine(tmp_path, config, workers=1) as engine:
        again = await run_batch(engine, [request(i) for i in range(200)], Answer, lambda r: None,
                                progress=False)
    assert again.cached == 200 and fake_llm.count == 0


async def test_a_refusing_endpoint_stops_the_run(tmp_path, fake_llm, local_ray):
    fake_llm.models = {"other-model"}
    async with ray_engine(tmp_path, cfg(fake_llm.url), workers=1) as engine:
        with pytest.raises(LLMError, match="404"):
            await run_batch(engine, [request(i) for i in range(20)], Answer, lambda r: None, progress=False)


async def test_a_worker_without_the_api_key_stops_the_run_at_start(tmp_path, fake_llm, local_ray):
    """The key is read by each worker from its own environment, never shipped through Ray."""
    config = llm_config(fake_llm.url, api_key_env="SYNTH_TEST_KEY_NOT_ON_THE_WORKERS")
    with pytest.raises(ConfigError, match="SYNTH_TEST_KEY_NOT_ON_THE_WORKERS"):
        async with ray_engine(tmp_path, config, workers=1):
            pass
    assert fake_llm.count == 0
