"""What one request looks like on the wire, and the hash that keys it in the response cache.

The body: model, messages, sampling parameters, the structured-output format (instructor's
JSON_SCHEMA, or strict on hosted APIs; synth.llm.replies) and extra_body. The cache key covers
provider, base_urls, model, the plain format, mode, sampling, seed, extra_body and the
template hash, and not whether the schema went strict: the answer means the same either way.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from synth.config import LLMConfig
from synth.llm.cache import request_hash
from synth.llm.replies import MODE, response_format
from synth.llm.transport import OPENAI_URL
from synth.llm.types import LLMRequest


class RequestShape:
    def __init__(self, config: LLMConfig, urls: list[str]):
        self.config, self.urls = config, urls
        # api.openai.com wants max_completion_tokens (newer models refuse max_tokens); vLLM and
        # most OpenAI-compatible servers know max_tokens
        hosted = any(url.startswith(OPENAI_URL) for url in urls)
        self.max_tokens_field = "max_completion_tokens" if hosted else "max_tokens"
        # strict structured output: on for hosted APIs unless configured; off once refused
        self.strict = config.provider == "openai" if config.strict_output is None else config.strict_output
        self._formats: dict[tuple[type[BaseModel], bool], tuple[dict[str, Any], str]] = {}

    def seed(self, request: LLMRequest) -> int:
        return request.seed if request.seed is not None else self.config.seed

    def request_hash(self, request: LLMRequest, model: type[BaseModel]) -> str:
        cfg = self.config
        return request_hash({
            "provider": cfg.provider, "base_urls": self.urls, "model": cfg.model,
            "format": self.format(model, strict=False)[1], "mode": MODE.value,
            "temperature": cfg.temperature, "max_tokens": cfg.max_tokens,
            "seed": self.seed(request), "extra_body": cfg.extra_body,
            "template_hash": request.template_hash}, request.messages)

    def format(self, model: type[BaseModel], strict: bool) -> tuple[dict[str, Any], str]:
        """The structured-output request fields for a response model, and their hash, cached."""
        if (model, strict) not in self._formats:
            kwargs = response_format(model, strict)
            self._formats[(model, strict)] = (kwargs, request_hash(kwargs))
        return self._formats[(model, strict)]

    def body(self, request: LLMRequest, messages: list[dict[str, str]],
             model: type[BaseModel]) -> dict[str, Any]:
        cfg = self.config
        body = {"model": cfg.model, "messages": messages, "temperature": cfg.temperature,
                self.max_tokens_field: cfg.max_tokens, "seed": self.seed(request),
                **self.format(model, self.strict)[0]}
        body.update(cfg.extra_body)
        return body
