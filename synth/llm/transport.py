"""HTTP to OpenAI-compatible servers through the OpenAI SDK (AsyncOpenAI, aiohttp transport).

One AsyncOpenAI client per base_url (several vLLM replicas may be listed); each call goes to
the endpoint with the fewest requests in flight. The SDK's own retries are off: the engine
retries itself so that every attempt is logged, budgeted and bounded. Requests are posted as
plain JSON bodies (`client.post`, cast to the raw response) and parsed with pydantic by the
engine, which skips the SDK's per-call parameter transform and model building (the costly
part of a call at hundreds of requests per second) while keeping its auth, URL handling,
timeouts and typed errors (APIStatusError, APITimeoutError, APIConnectionError).
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import openai
from openai import AsyncOpenAI, DefaultAioHttpClient

from synth.config import LLMConfig
from synth.errors import ConfigError

OPENAI_URL = "https://api.openai.com/v1"
NO_KEY = "EMPTY"  # what vLLM expects when it runs without --api-key


def base_urls(config: LLMConfig) -> list[str]:
    urls = config.base_url if isinstance(config.base_url, list) else [config.base_url] if config.base_url else []
    if not urls and config.provider == "openai":
        urls = [OPENAI_URL]
    if not urls:
        raise ConfigError(f"provider {config.provider} needs base_url (e.g. http://localhost:8000/v1)",
                          key="base_url")
    return [u.rstrip("/") for u in urls]


def api_key(config: LLMConfig) -> str:
    """The key from the env var named by api_key_env (never from the config itself)."""
    if not config.api_key_env:
        if config.provider == "openai" and not config.base_url:
            raise ConfigError("provider openai needs api_key_env (the env var holding the key)",
                              key="api_key_env")
        return NO_KEY
    value = os.environ.get(config.api_key_env)
    if not value:
        raise ConfigError(f"environment variable {config.api_key_env} is not set or empty",
                          key="api_key_env")
    return value


class Endpoint:
    def __init__(self, url: str, key: str, timeout_s: float, concurrency: int):
        self.url = url
        self.in_flight = 0
        limits = httpx.Limits(max_connections=concurrency + 8, max_keepalive_connections=concurrency + 8)
        self.client = AsyncOpenAI(base_url=url, api_key=key, max_retries=0, timeout=timeout_s,
                                  http_client=DefaultAioHttpClient(timeout=timeout_s, limits=limits))

    async def post(self, body: dict[str, Any]) -> bytes:
        """POST /chat/completions; the raw response body (raises openai.APIError subclasses)."""
        response = await self.client.post("/chat/completions", body=body, cast_to=httpx.Response)
        return response.content


class Transport:
    def __init__(self, config: LLMConfig):
        key = api_key(config)
        self.endpoints = [Endpoint(url, key, config.timeout_s, config.concurrency)
                          for url in base_urls(config)]
        self._turn = 0

    @contextlib.asynccontextmanager
    async def endpoint(self) -> AsyncIterator[Endpoint]:
        """The endpoint with the fewest requests in flight (round robin among ties)."""
        self._turn += 1
        n = len(self.endpoints)
        best = min(range(n), key=lambda i: (self.endpoints[i].in_flight, (i - self._turn) % n))
        chosen = self.endpoints[best]
        chosen.in_flight += 1
        try:
            yield chosen
        finally:
            chosen.in_flight -= 1

    async def close(self) -> None:
        for endpoint in self.endpoints:
            with contextlib.suppress(openai.OpenAIError, RuntimeError):
                await endpoint.client.close()
