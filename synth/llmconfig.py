"""Config sections of the LLM side: one endpoint (LLMConfig), the generator's and the judge's, the
spend caps and where the calls run. Part of the run config; import them from synth.config."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from synth.strict import Section


class LLMConfig(Section):
    """One LLM endpoint. Swapping provider/model is a config change only."""

    # ray_vllm: vLLM inside the Ray cluster through ray.data.llm (synth.llm.ray_data_provider)
    provider: Literal["offline", "vllm", "openai", "ray_vllm"] = "offline"
    model: str = "offline"
    base_url: str | list[str] | None = None
    api_key_env: str | None = None  # name of the env var holding the key; never the key
    concurrency: int = Field(16, ge=1, le=4096)
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(3, ge=0, le=20)
    temperature: float = Field(0.8, ge=0, le=2)
    max_tokens: int = Field(512, ge=1)
    # USD per million tokens; unset on a hosted API (provider openai): the published price
    # (genai-prices); unset elsewhere: free. Either one set: the other is 0.
    price_in_per_mtok: float | None = Field(None, ge=0)
    price_out_per_mtok: float | None = Field(None, ge=0)
    seed: int = 0
    tokenizer: str | None = None  # local tokenizer dir for prompt token counts; else tiktoken
    # extra request fields sent as-is (part of the cache key), e.g. vLLM + Qwen3:
    # {chat_template_kwargs: {enable_thinking: false}}
    extra_body: dict[str, Any] = Field(default_factory=dict)
    backoff_base_s: float = Field(0.5, ge=0)  # retry backoff: base * 2^attempt, jittered
    backoff_max_s: float = Field(30.0, ge=0)
    # how requests travel: "aiohttp" posts the SDK's request (its headers, auth and error
    # types) on one aiohttp session, ~1 ms less CPU a call; "sdk" goes through
    # AsyncOpenAI.post with the SDK's aiohttp transport (DefaultAioHttpClient)
    transport: Literal["aiohttp", "sdk"] = "aiohttp"
    # strict structured output (response_format json_schema with strict: true, schema made
    # strict by the OpenAI SDK); None = on for provider openai. A server that rejects it gets
    # the plain schema and the re-ask path.
    strict_output: bool | None = None

    @field_validator("base_url")
    @classmethod
    def _urls_not_empty(cls, v: str | list[str] | None) -> str | list[str] | None:
        if isinstance(v, list) and not v:
            raise ValueError("base_url list is empty")
        return v


class GeneratorConfig(LLMConfig):
    questions_per_segment: int = Field(3, ge=1, le=20)
    prompts_dir: str = "prompts"


class JudgeConfig(LLMConfig):
    temperature: float = Field(0.0, ge=0, le=2)
    rubric: str = "judges/default.yaml"
    max_revisions: int = Field(1, ge=0, le=5)


class BudgetConfig(Section):
    max_usd: float | None = Field(5.0, ge=0)  # null: no dollar cap
    max_tokens: int | None = Field(None, ge=0)  # input + output tokens, every stage; null: no cap
    judge_max_usd: float | None = Field(None, ge=0)


class EngineConfig(Section):
    """Where the LLM calls run (README "Running on a Ray cluster"): `local` (this process) or
    `ray` (the driver keeps the books, Ray workers send the HTTP calls; synth.llm.ray_dispatch)."""

    kind: Literal["local", "ray"] = "local"
    address: str = ""  # "": a local Ray started by synth; "auto", "host:6379" or "ray://host:10001"
    workers: int = Field(4, ge=1, le=1024)  # HTTP workers; each sends `concurrency` calls at once
    worker_cpus: float = Field(0.25, gt=0)  # Ray CPUs reserved per worker (it mostly waits)
    # sentence encoding and PII redaction (synth.text.ray_map): this many new texts at once go to the cluster
    cluster_min_texts: int = Field(256, ge=1)
    # provider ray_vllm (ray.data.llm): vLLM engine kwargs, rows per batch, GPU type
    vllm_engine_kwargs: dict[str, Any] = Field(default_factory=dict)
    batch_size: int = Field(64, ge=1)
    accelerator_type: str | None = None
