"""provider ray_vllm (ray.data.llm): everything around the vLLM engine call, with a stand-in
engine that answers like vLLM's guided decoding (schema-valid JSON, token counts)."""
from __future__ import annotations

import json

import pytest
from fake_llm_server import count_tokens, object_from_schema
from llm_helpers import Answer, call_rows, request

from synth.config import BudgetConfig, EngineConfig, LLMConfig
from synth.llm import LLMServices
from synth.llm import ray_data_provider as rdp
from synth.rundir import RunDir


def fake_vllm(faults=None, log=None):
    """Rows -> output rows as the vLLM stage gives them (after preprocess, before postprocess)."""
    faults = list(faults or [])

    def run(rows):
        for row in rows:
            row = rdp.preprocess(row)
            if log is not None:
                log.append(row)
            params = row["sampling_params"]
            schema = json.loads(params["structured_outputs"]["json"])
            text = json.dumps(object_from_schema(schema, {"messages": row["messages"]}))
            fault = faults.pop(0) if faults else None
            out = {**row, "generated_text": text, "num_input_tokens": 50,
                   "num_generated_tokens": count_tokens(text)}
            if fault == "invalid":
                out["generated_text"] = '{"oops": 1}'
            elif fault == "error":
                out["__inference_error__"] = "CUDA out of memory"
            yield rdp.postprocess(out)
    return run


def config(**kw):
    values = {"provider": "vllm", "model": "Qwen/Qwen3-0.6B", "base_url": "http://x/v1", "max_tokens": 200}
    values.update(kw)
    return LLMConfig(**values)


async def run_many(tmp_path, runner, n=5, max_usd=100.0, **kw):
    services = LLMServices(RunDir(tmp_path), BudgetConfig(max_usd=max_usd))
    engine = rdp.RayDataEngine(config(**kw), services, EngineConfig(kind="ray"), run_rows=runner)
    results = []

    async def keep(r):
        results.append(r)
    await engine.call_many([request(i) for i in range(n)], Answer, keep)
    await engine.aclose()
    services.close()
    return results


async def test_answers_are_validated_cached_and_logged(tmp_path):
    log = []
    results = await run_many(tmp_path, fake_vllm(log=log))
    assert sorted(r.item_id for r in results) == [f"item-{i}" for i in range(5)]
    assert all(r.status == "ok" and isinstance(r.value, Answer) for r in results)
    params = log[0]["sampling_params"]
    assert params["max_tokens"] == 200 and json.loads(params["structured_outputs"]["json"])["properties"].keys() == {"text", "n"}
    assert [r["status"] for r in call_rows(tmp_path)] == ["ok"] * 5
    again = await run_many(tmp_path, fake_vllm(log=(second := [])))
    assert second == [] and all(r.cached for r in again)


async def test_invalid_answer_is_reasked_and_engine_error_retried(tmp_path):
    log = []
    results = await run_many(tmp_path, fake_vllm(["invalid", "error"], log), n=3)
    assert all(r.status == "ok" for r in results) and len(log) == 5
    reasked = [row for row in log[3:] if len(row["messages"]) > 2]
    assert len(reasked) == 1 and "oops" in reasked[0]["messages"][2]["content"]
    statuses = sorted(r["status"] for r in call_rows(tmp_path))
    assert statuses == ["error", "invalid", "ok", "ok", "ok"]


async def test_budget_cap_is_reserved_before_the_rows_run(tmp_path):
    from synth.llm.budget import cost_usd, read_spend
    cap = cost_usd(100, 200, 2.0, 8.0) * 3  # about 3 rows' worst case
    log = []
    results = await run_many(tmp_path, fake_vllm(log=log), n=10, max_usd=cap,
                             price_in_per_mtok=2.0, price_out_per_mtok=8.0)
    statuses = [r.status for r in results]
    assert 1 <= statuses.count("ok") == len(log) < 10 and "skipped_budget" in statuses
    spend = read_spend(tmp_path / "spend.sqlite")
    assert spend["committed_usd"] <= cap and spend["spend_usd"] == pytest.approx(sum(r.cost_usd for r in results))


def test_processor_config_builds():
    cfg = rdp.processor_config(config(), EngineConfig(kind="ray", workers=2, batch_size=16,
                                                      vllm_engine_kwargs={"max_model_len": 4096}))
    assert cfg.model_source == "Qwen/Qwen3-0.6B" and cfg.batch_size == 16
    assert cfg.engine_kwargs["max_model_len"] == 4096
