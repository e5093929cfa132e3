"""provider ray_vllm (ray.data.llm): everything around the vLLM engine call, with a stand-in
engine that answers like vLLM's guided decoding (schema-valid JSON, token counts)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_llm_server import count_tokens, object_from_schema
from llm_helpers import Answer, call_rows, request

from synth.config import BudgetConfig, EngineConfig, LLMConfig
from synth.llm import LLMServices
from synth.llm import ray_data_provider as rdp
from synth.llm import ray_data_rows as rows_of
from synth.rundir import RunDir

REPO = Path(__file__).resolve().parents[2]


def answer_row(row, fault=None):
    """What the vLLM stage adds to a preprocessed row: guided-JSON text and token counts."""
    schema = json.loads(row["sampling_params"]["structured_outputs"]["json"])
    text = json.dumps(object_from_schema(schema, {"messages": list(row["messages"])}))
    out = {**row, "generated_text": text, "num_input_tokens": 50, "num_generated_tokens": count_tokens(text)}
    if fault == "invalid":
        out["generated_text"] = '{"oops": 1}'
    elif fault == "error":
        out["__inference_error__"] = "CUDA out of memory"
    return out


def fake_vllm(faults=None, log=None):
    """A stand-in for the processor: preprocess, the engine's answer, postprocess, per row."""
    faults = list(faults or [])

    def run(rows):
        for row in rows:
            row = rows_of.preprocess(row)
            if log is not None:
                log.append(row)
            yield rows_of.postprocess(answer_row(row, faults.pop(0) if faults else None))
    return run


def config(**kw):
    values = {"provider": "ray_vllm", "model": "Qwen/Qwen3-0.6B", "max_tokens": 200}
    values.update(kw)
    return LLMConfig(**values)


async def run_many(tmp_path, runner, n=5, max_usd=100.0, max_tokens=10**9, **kw):
    services = LLMServices(RunDir(tmp_path), BudgetConfig(max_usd=max_usd, max_tokens=max_tokens))
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
    schema = json.loads(params["structured_outputs"]["json"])
    assert params["max_tokens"] == 200 and schema["properties"].keys() == {"text", "n"}
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
    cfg = rows_of.processor_config(config(), EngineConfig(kind="ray", workers=2, batch_size=16,
                                                      vllm_engine_kwargs={"max_model_len": 4096}))
    assert cfg.model_source == "Qwen/Qwen3-0.6B" and cfg.batch_size == 16
    assert cfg.engine_kwargs["max_model_len"] == 4096


def test_extra_body_reaches_the_chat_template_and_the_sampling_params():
    llm = config(extra_body={"chat_template_kwargs": {"enable_thinking": False},
                             "sampling_params": {"top_p": 0.9}})
    assert rows_of.builder_kwargs(llm) == {"chat_template_kwargs": {"enable_thinking": False}}
    params = rows_of.sampling_params(llm, 7, "{}")
    assert params["top_p"] == 0.9 and params["seed"] == 7 and params["structured_outputs"] == {"json": "{}"}
    assert rows_of.builder_kwargs(config()) is None


def test_the_gpu_config_makes_a_ray_data_engine(tmp_path):
    from synth.config import load_config
    from synth.llm import make_engine

    cfg = load_config(REPO / "configs" / "ray-vllm-gpu.yaml", [f"run_dir={tmp_path}"])
    services = LLMServices(RunDir(tmp_path), cfg.budget)
    engine = make_engine(cfg.generator, services, cfg.engine, stage="generate")
    assert isinstance(engine, rdp.RayDataEngine)
    processor = rows_of.processor_config(cfg.generator, cfg.engine)
    assert processor.accelerator_type == "H100" and processor.batch_size == 64
    assert processor.engine_kwargs["max_model_len"] == 8192
    services.close()


def test_rows_go_through_a_ray_dataset_and_back(local_ray):
    """The rows as Arrow blocks: messages, nested sampling params and the schema survive."""
    schema = json.dumps(Answer.model_json_schema())
    rows = [{"row_id": str(i), "request_hash": f"h{i}", "messages": request(i).messages,
             "sampling_params": rows_of.sampling_params(config(), i, schema)} for i in range(6)]

    def engine_stage(row):  # a local function: Ray ships it by value to its workers
        text = json.dumps({"text": "an answer", "n": 3})
        return {**row, "generated_text": text, "num_input_tokens": 40, "num_generated_tokens": 9}
    dataset = local_ray.data.from_items(rows).map(rows_of.preprocess).map(engine_stage).map(rows_of.postprocess)
    out = sorted(dataset.take_all(), key=lambda r: int(r["row_id"]))
    assert [r["row_id"] for r in out] == [str(i) for i in range(6)]
    assert all(Answer.model_validate_json(r["text"]) and r["completion_tokens"] > 0 and not r["error"]
               for r in out)
