"""HTTP to OpenAI-compatible servers, built on the OpenAI SDK (openai==2.54.0).

One endpoint per base_url (several vLLM replicas may be listed); each call goes to the
endpoint with the fewest requests in flight among those in rotation: a replica that keeps
refusing connections, timing out or answering 5xx is taken out by its circuit breaker
(synth.llm.breaker) and probed again after a cooldown. The SDK's own retries are off: the engine
retries itself so that every attempt is logged, budgeted and bounded. Both transports raise
the SDK's exception types (APIStatusError and subclasses, APITimeoutError,
APIConnectionError) and return the raw response body, which the engine parses and validates.

- `aiohttp` (default): an AsyncOpenAI client supplies the request as the SDK would send it
  (URL, Authorization, User-Agent and X-Stainless headers) and the error classes; the POST
  itself goes over one aiohttp session. About 0.4 ms of CPU a call instead of ~1.5 ms through
  the SDK's httpx layer, which matters at hundreds of calls a second (bench/bench_generate.py).
- `sdk`: `AsyncOpenAI.post` with the SDK's aiohttp transport (DefaultAioHttpClient).
"""
from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol

import aiohttp
import httpx
import openai
from openai import AsyncOpenAI, DefaultAioHttpClient

from synth.config import LLMConfig
from synth.errors import ConfigError
from synth.llm.breaker import Breaker, Event, pick

OPENAI_URL = "https://api.openai.com/v1"
NO_KEY = "EMPTY"  # what vLLM expects when it runs without --api-key
PATH = "/chat/completions"


def base_urls(config: LLMConfig) -> list[str]:
    given = config.base_url if isinstance(config.base_url, list) else [config.base_url]
    urls = [u for u in given if u]
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


class Endpoint(Protocol):
    url: str
    in_flight: int

    async def post(self, body: dict[str, Any]) -> bytes: ...

    async def close(self) -> None: ...


class SdkEndpoint:
    """AsyncOpenAI.post over the SDK's aiohttp transport."""

    def __init__(self, url: str, key: str, timeout_s: float, concurrency: int):
        self.url, self.in_flight = url, 0
        limits = httpx.Limits(max_connections=concurrency + 8, max_keepalive_connections=concurrency + 8)
        self.client = AsyncOpenAI(base_url=url, api_key=key, max_retries=0, timeout=timeout_s,
                                  http_client=DefaultAioHttpClient(timeout=timeout_s, limits=limits))

    async def post(self, body: dict[str, Any]) -> bytes:
        response = await self.client.post(PATH, body=body, cast_to=httpx.Response)
        return response.content

    async def close(self) -> None:
        await self.client.close()


class AiohttpEndpoint:
    """The SDK's request (URL, headers, auth, error types) posted on one aiohttp session."""

    def __init__(self, url: str, key: str, timeout_s: float, concurrency: int):
        self.url, self.in_flight = url, 0
        sdk = AsyncOpenAI(base_url=url, api_key=key, max_retries=0, timeout=timeout_s)
        self.target = str(sdk.base_url).rstrip("/") + PATH
        headers = {**sdk.default_headers, **sdk.auth_headers}  # as AsyncOpenAI would send them
        self.headers = {k: v for k, v in headers.items() if isinstance(v, str)}
        self._sdk, self._limit = sdk, concurrency + 8
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self._limit, limit_per_host=self._limit)
        self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return self._session

    async def post(self, body: dict[str, Any]) -> bytes:
        session = self._session or self._open()
        try:
            data = json.dumps(body).encode()
            async with session.post(self.target, data=data, headers=self.headers) as response:
                raw = await response.read()
                if response.status >= 400:
                    raise status_error(response.status, dict(response.headers), raw, self.target)
                return raw
        except TimeoutError as exc:
            raise openai.APITimeoutError(request=httpx.Request("POST", self.target)) from exc
        except aiohttp.ClientError as exc:
            raise openai.APIConnectionError(message=f"{type(exc).__name__}: {exc}",
                                            request=httpx.Request("POST", self.target)) from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        await self._sdk.close()


_ERRORS: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError, 401: openai.AuthenticationError, 403: openai.PermissionDeniedError,
    404: openai.NotFoundError, 409: openai.ConflictError, 422: openai.UnprocessableEntityError,
    429: openai.RateLimitError}


def status_error(status: int, headers: dict[str, str], raw: bytes, url: str) -> openai.APIStatusError:
    """The SDK's exception for an HTTP error answer (same classes and body as AsyncOpenAI's)."""
    response = httpx.Response(status, headers=headers, content=raw, request=httpx.Request("POST", url))
    try:
        body: Any = json.loads(raw)
    except ValueError:
        body = raw.decode("utf-8", "replace")[:500]
    data = body.get("error", body) if isinstance(body, dict) else body
    message = data.get("message") if isinstance(data, dict) else None
    cls = _ERRORS.get(status, openai.InternalServerError if status >= 500 else openai.APIStatusError)
    return cls(f"Error code: {status} - {message or body}", response=response, body=data)


class Transport:
    def __init__(self, config: LLMConfig):
        key = api_key(config)
        kind = AiohttpEndpoint if config.transport == "aiohttp" else SdkEndpoint
        self.endpoints: list[Endpoint] = [kind(url, key, config.timeout_s, config.concurrency)
                                          for url in base_urls(config)]
        self.breakers = [Breaker(e.url) for e in self.endpoints]
        self._turn = 0

    @contextlib.asynccontextmanager
    async def endpoint(self, avoid: str | None = None) -> AsyncIterator[Endpoint]:
        """The endpoint for one request (see synth.llm.breaker.pick); `avoid`: the url that
        just failed this item. Report how it went with `record`."""
        self._turn += 1
        if len(self.endpoints) == 1:
            best, probe = 0, False
        else:
            in_flight = [e.in_flight for e in self.endpoints]
            best, probe = pick(self.breakers, in_flight, self._turn, avoid, time.monotonic())
        chosen = self.endpoints[best]
        if probe:
            self.breakers[best].start_probe()
        chosen.in_flight += 1
        try:
            yield chosen
        finally:
            chosen.in_flight -= 1
            if probe:
                self.breakers[best].abandon_probe()  # no-op once `record` saw its outcome

    def record(self, url: str, fault: str | None) -> Event:
        """How a request to `url` ended (a fault reason, or None: answered); "out" when that
        took the replica out of rotation, "back" when it put it back."""
        if len(self.endpoints) == 1:
            return None
        breaker = next(b for b in self.breakers if b.url == url)
        return breaker.record(fault)

    def in_rotation_besides(self, url: str) -> bool:
        """Whether another replica than `url` is in rotation (a failed item goes there at once)."""
        return any(b.closed() and b.url != url for b in self.breakers)

    def taken_out(self) -> dict[str, int]:
        """url -> how often its breaker took it out of rotation (replicas never taken out: absent)."""
        return {b.url: b.trips for b in self.breakers if b.trips}

    async def close(self) -> None:
        for endpoint in self.endpoints:
            with contextlib.suppress(openai.OpenAIError, RuntimeError, aiohttp.ClientError):
                await endpoint.close()
