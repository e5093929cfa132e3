"""One server answer: parsing it, validating it against the response model, re-asking.

The request format and the re-ask messages come from instructor's JSON_SCHEMA mode
(response_format json_schema; vLLM turns it into guided decoding). Hosted APIs that support it
get the strict variant (`strict: true`, the schema made strict by the OpenAI SDK's own
`type_to_response_format_param`, as `client.chat.completions.parse` sends it); the answer is
validated and re-asked the same way either way. Validation is pydantic's
model_validate_json on the answer text, with no per-call instructor client in between.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import instructor
from instructor.processing import handle_reask_kwargs, handle_response_model
from openai.types.chat import ChatCompletion, ChatCompletionMessage
from openai.types.chat.chat_completion import Choice
from pydantic import BaseModel, ValidationError

from synth.llm.retry import CallFault

MODE = instructor.Mode.JSON_SCHEMA
ERROR_BYTES = 1500  # the validation error sent back with a re-ask, at most (UTF-8 bytes)


@dataclass
class Reply:
    content: str | None
    finish: str | None
    refusal: str | None
    usage: dict[str, int] | None
    endpoint: str = ""
    latency: float = 0.0


def parse_reply(raw: bytes) -> Reply:
    """A chat completion body -> Reply (raises ValueError/KeyError/IndexError/TypeError)."""
    data = json.loads(raw)
    choice = data["choices"][0]
    message = choice.get("message") or {}
    usage = data.get("usage")
    return Reply(content=message.get("content"), finish=choice.get("finish_reason"),
                 refusal=message.get("refusal"), usage=usage if isinstance(usage, dict) else None)


def response_format(model: type[BaseModel], strict: bool = False) -> dict[str, Any]:
    """The structured-output request fields for a response model (instructor JSON_SCHEMA, or
    with `strict` the OpenAI SDK's strict json_schema; a model it cannot make strict: None)."""
    if strict:
        return {"response_format": strict_format(model)}
    _, kwargs = handle_response_model(model, mode=MODE, messages=[])
    kwargs.pop("messages", None)
    return kwargs


def strict_format(model: type[BaseModel]) -> dict[str, Any]:
    """response_format json_schema with strict: true (all fields required, no extra keys)."""
    from openai.lib._parsing._completions import type_to_response_format_param

    return dict(type_to_response_format_param(model))  # type: ignore[arg-type]


def validate_reply(reply: Reply, model: type[BaseModel], max_tokens: int,
                   context: dict[str, Any] | None = None) -> tuple[BaseModel | None, CallFault]:
    """The validated answer, or the fault to re-ask with (refusal is not re-asked)."""
    if reply.refusal and not reply.content:
        return None, CallFault("refusal", f"the model refused: {reply.refusal}"[:300], False)
    if reply.finish == "length":
        return None, CallFault("truncated", f"the answer was cut off at max_tokens ({max_tokens}); "
                               "answer again, shorter, as one complete JSON object", False)
    try:
        return model.model_validate_json(reply.content or "", context=context or None), CallFault("ok", "", False)
    except ValidationError as exc:
        return None, CallFault("validation_failed", clip_bytes(str(exc), ERROR_BYTES), False)


def clip_bytes(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes (never inside a character)."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


@functools.lru_cache(maxsize=8)
def reask_growth(max_tokens: int) -> int:
    """A bound of the prompt tokens one re-ask adds: the answer sent back (at most max_tokens
    of the model's own tokens) and the error message (at most ERROR_BYTES, plus the re-ask
    wording), with their chat template markers (synth.llm.tokens.byte_bound)."""
    from synth.llm.tokens import PER_REQUEST, byte_bound

    added = reask_messages([], Reply(content="", finish="stop", refusal=None, usage=None),
                           CallFault("validation_failed", "", False))
    return max_tokens + ERROR_BYTES + byte_bound(added) - PER_REQUEST


def next_messages(original: list[dict[str, str]], sent: list[dict[str, str]], reply: Reply,
                  fault: CallFault) -> list[dict[str, str]]:
    """The next attempt's messages after an answer that failed validation: a fresh ask's bad
    answer is re-asked with what was wrong (`reask_messages`); a re-ask answered badly again is
    followed by a fresh ask (`original`; each attempt sends its own seed). So the history holds
    at most one bad answer: a small model shown its own answer copies it (SmolLM2-135M sent the
    same repeated question back on three re-asks in a row, tests/llm/test_llm_books.py)."""
    if len(sent) > len(original):
        return list(original)
    return reask_messages(sent, reply, fault)


def reask_messages(messages: list[dict[str, str]], reply: Reply, fault: CallFault) -> list[dict[str, str]]:
    """The next round's messages: the bad answer plus what was wrong (instructor's re-ask)."""
    message = ChatCompletionMessage.model_construct(role="assistant", content=reply.content or "",
                                                    tool_calls=None, function_call=None)
    choice = Choice.model_construct(index=0, message=message, finish_reason=reply.finish or "stop")
    completion = ChatCompletion.model_construct(choices=[choice])
    kwargs = handle_reask_kwargs({"messages": list(messages)}, MODE, completion, ValueError(fault.message))
    return list(kwargs["messages"])
