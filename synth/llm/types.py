"""The contract of the one LLM seam. Stages build LLMRequests and get LLMResults back.

Implemented by synth.llm.engine.LLMEngine (providers: vllm, openai, offline). Stages never
import the OpenAI SDK or instructor themselves.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T", bound=BaseModel)

CallStatus = Literal["ok", "failed", "skipped_budget"]


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class LLMRequest(BaseModel):
    """One structured-output request. `item_id` ties the result back to the work item."""

    model_config = ConfigDict(extra="forbid")

    item_id: str
    messages: list[dict[str, str]]
    template_hash: str  # hash of the prompt template / rubric that produced the messages
    seed: int | None = None
    # inputs for the offline provider (no model): it builds the answer from these, not from text
    offline_inputs: dict[str, Any] = Field(default_factory=dict)
    # what the response model's validators read beside the answer (pydantic validation context,
    # e.g. the pair a judge's quotes must come from); not sent, not part of the request hash
    validation_context: dict[str, Any] = Field(default_factory=dict)


class LLMResult(BaseModel, Generic[T]):
    item_id: str
    status: CallStatus
    value: T | None = None
    reason: str | None = None  # failed: validation_failed, truncated, timeout, http_5xx, refusal...
    error: str | None = None
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float = 0.0
    cached: bool = False
    latency_s: float = 0.0
    attempts: int = 0
    request_hash: str = ""


# ---------------------------------------------------------------- engine-side additions

# The offline provider (no model) answers a request from its `offline_inputs`; each stage
# passes its own answerer to the engine (generate: synth.offline_questions.offline_answer).
OfflineAnswerer = Callable[[LLMRequest], BaseModel]


class BatchSummary(BaseModel):
    """What one run_batch did. `stopped` says why it ended early (None: every item ran)."""

    items: int = 0  # results delivered to on_result
    ok: int = 0
    failed: int = 0
    skipped_budget: int = 0
    cached: int = 0
    calls: int = 0  # HTTP requests sent (attempts, re-asks and retries included)
    spend_usd: float = 0.0  # settled spend of this batch
    stopped: Literal["budget"] | None = None
    failures: dict[str, int] = Field(default_factory=dict)  # reason -> count
    elapsed_s: float = 0.0
    replicas_out: dict[str, int] = Field(default_factory=dict)  # replica url -> times taken out
