"""Rows through a ray.data.llm vLLM processor (provider ray_vllm, synth.llm.ray_data_provider).

A row is one attempt: `row_id`, `request_hash`, the chat `messages` and vLLM `sampling_params`
(the config's sampling, this attempt's seed, guided JSON with the response schema). The
processor (`RayDataRows`, built once per engine and reused by every pass) turns rows into
output rows (text, token counts, engine error) that `stream_rows` hands to the event loop as
they finish; `reply_of` makes one the Reply the HTTP providers produce.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

from synth.config import EngineConfig, LLMConfig
from synth.llm.replies import Reply

RowRunner = Callable[[list[dict[str, Any]]], Iterator[dict[str, Any]]]
URL_SCHEME = "ray-vllm://"  # the endpoint named in replies and the call log


def sampling_params(config: LLMConfig, seed: int, schema: str) -> dict[str, Any]:
    """vLLM SamplingParams fields for one row: the config's sampling plus guided JSON (the
    schema as JSON text: one Arrow string column, whatever the schema's shape)."""
    params = {"temperature": config.temperature, "max_tokens": config.max_tokens, "seed": seed,
              "structured_outputs": {"json": schema}}
    params.update(config.extra_body.get("sampling_params", {}))
    return params


def preprocess(row: dict[str, Any]) -> dict[str, Any]:
    """Dataset row -> the processor's input columns (messages, sampling_params) plus our ids."""
    return {"row_id": row["row_id"], "request_hash": row["request_hash"],
            "messages": row["messages"], "sampling_params": row["sampling_params"]}


def postprocess(row: dict[str, Any]) -> dict[str, Any]:
    """Processor output row -> what the driver needs (text, token counts, error)."""
    return {"row_id": row["row_id"], "request_hash": row["request_hash"],
            "text": row.get("generated_text") or "", "error": row.get("__inference_error__") or "",
            "prompt_tokens": int(row.get("num_input_tokens") or 0),
            "completion_tokens": int(row.get("num_generated_tokens") or 0)}


def reply_of(row: dict[str, Any], max_tokens: int) -> Reply:
    """An output row as the Reply the HTTP providers produce (length finish at max_tokens)."""
    completion = row["completion_tokens"]
    return Reply(content=row["text"], finish="length" if completion >= max_tokens else "stop",
                 refusal=None, usage={"prompt_tokens": row["prompt_tokens"],
                                      "completion_tokens": completion},
                 endpoint=URL_SCHEME + "ray-data")


def processor_config(llm: LLMConfig, engine: EngineConfig) -> Any:
    """The vLLMEngineProcessorConfig for this endpoint (ray.data.llm)."""
    from ray.data.llm import vLLMEngineProcessorConfig

    return vLLMEngineProcessorConfig(
        model_source=llm.model, engine_kwargs=dict(engine.vllm_engine_kwargs),
        concurrency=engine.workers, batch_size=engine.batch_size,
        accelerator_type=engine.accelerator_type, should_continue_on_error=True)


def builder_kwargs(llm: LLMConfig) -> dict[str, Any] | None:
    """extra_body.chat_template_kwargs (e.g. Qwen3's enable_thinking: false) for the chat
    template stage, as the HTTP providers send them to vLLM's server."""
    kwargs = llm.extra_body.get("chat_template_kwargs")
    return {"chat_template_kwargs": dict(kwargs)} if kwargs else None


class RayDataRows:
    """Rows through a ray.data.llm vLLM processor, streamed back as they finish. The processor
    is built once per engine and reused by every pass (every re-ask round, every revision)."""

    def __init__(self, llm: LLMConfig, engine: EngineConfig):
        self.llm, self.engine = llm, engine
        self.processor: Any = None
        self.builds = 0

    def __call__(self, rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        import ray

        yield from self.build()(ray.data.from_items(rows)).iter_rows()

    def build(self) -> Any:
        if self.processor is None:
            from ray.data.llm import build_processor

            from synth.llm.ray_dispatch import connect_ray

            connect_ray(self.engine)
            self.processor = build_processor(
                processor_config(self.llm, self.engine), preprocess=preprocess,
                postprocess=postprocess, builder_kwargs=builder_kwargs(self.llm))
            self.builds += 1
        return self.processor


async def stream_rows(run_rows: RowRunner, rows: list[dict[str, Any]]) -> Any:
    """Iterate a blocking row iterator in a thread, yielding rows here as they arrive."""
    if not rows:
        return
    loop, queue = asyncio.get_running_loop(), asyncio.Queue()
    done = object()

    def pump() -> None:
        try:
            for row in run_rows(rows):
                loop.call_soon_threadsafe(queue.put_nowait, row)
        except BaseException as exc:  # noqa: BLE001 (not swallowed: raised in the event loop)
            loop.call_soon_threadsafe(queue.put_nowait, exc)
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, done)
    threading.Thread(target=pump, name="ray-data-rows", daemon=True).start()
    while (row := await queue.get()) is not done:
        if isinstance(row, BaseException):
            raise row
        yield row
