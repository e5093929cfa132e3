"""What one request looks like on the wire, and the hash that keys it in the response cache.

The body: model, messages, sampling parameters, the structured-output format (instructor's
JSON_SCHEMA, or strict on hosted APIs; synth.llm.replies) and extra_body. The cache key covers
provider, base_urls, model, the plain format, mode, sampling, seed, extra_body and the
template hash, and not whether the schema went strict: the answer means the same either way.
Re-asks send seeds derived from the first one (`attempt_seed`), so the key still fixes them.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from synth.config import LLMConfig
from synth.hashing import content_hash
from synth.llm.cache import request_hash
from synth.llm.replies import MODE, response_format
from synth.llm.transport import OPENAI_URL
from synth.llm.types import LLMRequest

SEED_MASK = 0x7FFFFFFF  # re-ask seeds fit a signed 32-bit int (llama.cpp, vLLM, hosted APIs)


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
        """The request's seed (the config's when it has none): the first ask's, in the cache key."""
        return request.seed if request.seed is not None else self.config.seed

    def attempt_seed(self, request: LLMRequest, answer: int) -> int:
        """The seed of an item's answer number `answer`: 0 (the first ask) sends the request's
        seed; re-ask n sends one derived from that seed, the item id and n. A re-ask of the same
        prompt with the same seed gets the same answer from a deterministic server; this way it
        can change, and the cache key (first seed) still determines every seed a run sends."""
        base = self.seed(request)
        if answer == 0:
            return base
        return int(content_hash(f"{base}\x1f{request.item_id}\x1f{answer}")[:8], 16) & SEED_MASK

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

    def body(self, request: LLMRequest, messages: list[dict[str, str]], model: type[BaseModel],
             seed: int | None = None) -> dict[str, Any]:
        """The request body; `seed`: this attempt's (attempt_seed), else the request's."""
        cfg = self.config
        body = {"model": cfg.model, "messages": messages, "temperature": cfg.temperature,
                self.max_tokens_field: cfg.max_tokens,
                "seed": self.seed(request) if seed is None else seed,
                **self.format(model, self.strict)[0]}
        body.update(cfg.extra_body)
        return body
