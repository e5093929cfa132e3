"""The contract of the one LLM seam. Stages build LLMRequests and get LLMResults back.

Implemented by synth.llm.engine.LLMEngine (providers: vllm, openai, offline). Stages never
import the OpenAI SDK or instructor themselves.
"""
from __future__ import annotations

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
