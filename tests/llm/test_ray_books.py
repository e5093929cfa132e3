"""The Ray engines' books without a cluster: ray_vllm's reasons, seeds, reservations and one
processor; the ray engine's Ray errors and replicas out gathered across workers."""
from __future__ import annotations

import asyncio
import json

import pytest
from fake_llm_server import count_tokens, object_from_schema, refused_url
from llm_helpers import Answer, call_rows, llm_config, request

from synth.config import BudgetConfig, EngineConfig, LLMConfig
from synth.llm import LLMServices, ray_dispatch, run_batch
from synth.llm import ray_data_rows as rows_of
from synth.llm.budget import read_spend
from synth.llm.ray_data_provider import RayDataEngine
from synth.llm.sender import Sender
from synth.llm.transport import Transport
from synth.rundir import RunDir

ray = pytest.importorskip("ray")


def vllm_rows(fault=None, log=None, calls=None):
    """A stand-in processor: every row answered (schema-valid), or with `fault`:
    "invalid", "error" (engine error), "lost" (row never returned), "raise" (the pass raises)."""
    def run(rows):
        if calls is not None:
            calls.append(len(rows))
        if fault == "raise":
            raise RuntimeError("the vLLM engine died")
        for row in rows:
            row = rows_of.preprocess(row)
            if log is not None:
                log.append(row)
            if fault == "lost":
                continue
            schema = json.loads(row["sampling_params"]["structured_outputs"]["json"])
            text = json.dumps(object_from_schema(schema, {"messages": list(row["messages"])}))
            out = {**row, "generated_text": '{"oops": 1}' if fault == "invalid" else text,
                   "num_input_tokens": 50, "num_generated_tokens": count_tokens(text)}
            if fault == "error":
                out["__inference_error__"] = "CUDA out of memory"
            yield rows_of.postprocess(out)
    return run


def data_engine(tmp_path, runner):
    services = LLMServices(RunDir(tmp_path), BudgetConfig(max_usd=None, max_tokens=10**9))
    config = LLMConfig(provider="ray_vllm", model="Qwen/Qwen3-0.6B", max_tokens=200, max_retries=2)
    return services, RayDataEngine(config, services, EngineConfig(kind="ray"), run_rows=runner)


async def run_all(tmp_path, runner, n=3):
    services, engine = data_engine(tmp_path, runner)
    results = []
    try:
        await run_batch(engine, [request(i) for i in range(n)], Answer, results.append, progress=False)
    finally:
        await engine.aclose()
        services.close()
    return results


@pytest.mark.parametrize(("fault", "reason"), [("error", "engine_error"), ("lost", "row_lost"),
                                                ("invalid", "validation_failed")])
async def test_ray_vllm_fails_with_the_last_faults_reason(tmp_path, fault, reason):
    """Only an answer that never validated is final; engine errors and lost rows stay transient
    (generate retries them on a rerun), and their reservations are settled, never left open."""
    results = await run_all(tmp_path, vllm_rows(fault))
    assert {(r.status, r.reason) for r in results} == {("failed", reason)}
    assert all(r.attempts == 3 for r in results)
    assert read_spend(tmp_path / "spend.sqlite")["open_tokens"] == 0


async def test_a_pass_that_raises_settles_its_reservations(tmp_path):
    with pytest.raises(RuntimeError, match="vLLM engine died"):
        await run_all(tmp_path, vllm_rows("raise"))
    spend = read_spend(tmp_path / "spend.sqlite")
    assert spend["open_tokens"] == 0 and spend["tokens"] > 0  # kept at the worst case: it may have run


async def test_ray_vllm_reasks_send_their_own_seed(tmp_path):
    log = []
    invalid_first = vllm_rows(log=log)

    def run(rows):
        first = not log
        for row in invalid_first(rows):
            yield {**row, "text": '{"oops": 1}'} if first else row
    results = await run_all(tmp_path, run, n=1)
    assert results[0].status == "ok" and len(log) == 2
    seeds = [row["sampling_params"]["seed"] for row in log]
    assert seeds[0] != seeds[1] and [r["seed"] for r in call_rows(tmp_path)] == seeds


async def test_single_calls_made_together_share_one_pass(tmp_path):
    """The revise loop calls one pair at a time, all at once: one pass, not one per call."""
    calls = []
    services, engine = data_engine(tmp_path, vllm_rows(calls=calls))
    try:
        results = await asyncio.gather(*(engine.call(request(i), Answer) for i in range(5)))
    finally:
        await engine.aclose()
        services.close()
    assert [r.item_id for r in results] == [f"item-{i}" for i in range(5)]
    assert all(r.status == "ok" for r in results) and calls == [5]


def test_the_processor_is_built_once_per_engine(monkeypatch):
    import ray.data.llm

    built = []
    monkeypatch.setattr(ray.data.llm, "build_processor", lambda *a, **kw: built.append(kw) or object())
    monkeypatch.setattr(ray_dispatch, "connect_ray", lambda engine: False)
    runner = rows_of.RayDataRows(LLMConfig(provider="ray_vllm", model="m"), EngineConfig(kind="ray"))
    assert runner.build() is runner.build() and runner.builds == 1 and len(built) == 1


class FakeActor:
    """A stand-in for an HttpWorker actor handle: `post.remote` runs `post` in this process."""

    class _Method:
        def __init__(self, fn):
            self.remote = fn

    def __init__(self, post):
        self.post = self._Method(post)
        self.ready = self._Method(self._ready)

    async def _ready(self):
        return {"error": "", "pid": 0, "host": "here", "node": "n"}


def fake_workers(monkeypatch, actors):
    workers = ray_dispatch.Workers(actors, [{"node": "n"}] * len(actors))
    monkeypatch.setattr(ray_dispatch, "acquire_workers", lambda llm, engine: workers)


async def test_any_ray_error_on_a_call_is_a_named_retried_fault(tmp_path, monkeypatch, fake_llm):
    sender = Sender(Transport(llm_config(fake_llm.url, api_key_env=None)))
    failures = [ray.exceptions.RaySystemError("object store full\nmore detail")]

    async def post(body, avoid):
        if failures:
            raise failures.pop()
        return await sender.send(body, avoid)
    fake_workers(monkeypatch, [FakeActor(post)])
    services = LLMServices(RunDir(tmp_path), BudgetConfig(max_usd=None))
    engine = ray_dispatch.RayEngine(llm_config(fake_llm.url, api_key_env=None), services,
                                    EngineConfig(kind="ray", workers=1))
    try:
        result = await engine.call(request(), Answer)
    finally:
        await engine.aclose()
        await sender.close()
        services.close()
    assert result.status == "ok" and result.attempts == 2
    first = call_rows(tmp_path)[0]
    assert (first["status"], first["reason"]) == ("error", "ray_error")
    assert "RaySystemError" in first["error"] and "object store full" in first["error"]
    assert "more detail" not in first["error"]  # one line, no traceback


async def test_replicas_taken_out_are_gathered_across_workers(tmp_path, monkeypatch, fake_llm):
    """Each worker has its own breakers: the replica each takes out is named in the summary."""
    config = llm_config([fake_llm.url, refused_url()], api_key_env=None, concurrency=2)
    senders = [Sender(Transport(config)) for _ in range(2)]
    fake_workers(monkeypatch, [FakeActor(s.send) for s in senders])
    services = LLMServices(RunDir(tmp_path), BudgetConfig(max_usd=None))
    engine = ray_dispatch.RayEngine(config, services, EngineConfig(kind="ray", workers=2))
    try:
        summary = await run_batch(engine, [request(i) for i in range(40)], Answer, lambda r: None,
                                  progress=False)
    finally:
        await engine.aclose()
        for sender in senders:
            await sender.close()
        services.close()
    per_worker = [s.taken_out() for s in senders]
    assert summary.ok == 40 and all(per_worker)  # both workers took the dead replica out
    gathered = {url: sum(w.get(url, 0) for w in per_worker) for url in set().union(*per_worker)}
    assert summary.replicas_out == gathered
    assert sum(r["status"] == "replica_out" for r in call_rows(tmp_path)) == sum(gathered.values())


async def test_a_failing_pass_raises_in_every_call_made_together(tmp_path):
    services, engine = data_engine(tmp_path, vllm_rows("raise"))
    try:
        outcomes = await asyncio.gather(*(engine.call(request(i), Answer) for i in range(3)),
                                        return_exceptions=True)
    finally:
        await engine.aclose()
        services.close()
    assert all(isinstance(o, RuntimeError) and "vLLM engine died" in str(o) for o in outcomes)
    assert read_spend(tmp_path / "spend.sqlite")["open_tokens"] == 0
