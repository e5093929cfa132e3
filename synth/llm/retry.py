"""Which call errors are retried, how long to wait, and which stop the run.

Retried with exponential backoff and jitter, at most max_retries times: 429 (waiting at
least its Retry-After), 408/409, 5xx, timeouts, dropped connections, a 200 whose body is not
JSON. Not retried, and the run stops at once (LLMError): 401/403 (bad key), 404 (unknown
model or wrong URL), other 4xx. One exception: a 400 that says the prompt is too long for
the model's context fails only that item (reason prompt_too_long), and a 400 that rejects
the response_format schema (a server without strict structured output) is `schema_rejected`:
the engine then sends the plain schema.
"""
from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

import openai

MAX_RETRY_AFTER_S = 300.0


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = 0.5
    max_s: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `attempt` (0-based): full-range jitter."""
        backoff = min(self.max_s, self.base_s * 2**attempt) * (0.5 + random.random() / 2)
        if retry_after is not None:
            return max(min(retry_after, MAX_RETRY_AFTER_S), backoff)
        return backoff


@dataclass(frozen=True)
class CallFault:
    reason: str  # http_429, http_5xx, http_408, timeout, connection, bad_response, ...
    message: str
    retryable: bool
    fatal: bool = False
    retry_after: float | None = None
    billed: bool = False  # the server may have done (and billed) the work: keep the reservation


SCHEMA_HINTS = ("strict", "json_schema", "response_format", "invalid schema")
CONTEXT_HINTS = ("context length", "context_length", "maximum context", "too many tokens",
                 "prompt is too long", "input is too long")


def classify(exc: Exception) -> CallFault:
    """Map an exception from one HTTP call to a CallFault."""
    if isinstance(exc, openai.APITimeoutError) and not _dropped(exc):
        return CallFault("timeout", "the request timed out", True, billed=True)
    if isinstance(exc, openai.APIConnectionError):  # billed unless it never connected
        return CallFault("connection", f"connection failed: {_cause(exc)}", True,
                         billed=not _never_connected(exc))
    if isinstance(exc, openai.APIStatusError):
        return _status_fault(exc)
    return CallFault("bad_response", f"{type(exc).__name__}: {exc}", True)


def _status_fault(exc: openai.APIStatusError) -> CallFault:
    code, text = exc.status_code, _server_message(exc)
    if code == 429:
        return CallFault("http_429", f"rate limited (429): {text}", True,
                         retry_after=retry_after_seconds(exc.response.headers.get("retry-after")))
    if code >= 500:
        return CallFault("http_5xx", f"server error {code}: {text}", True)
    if code in (408, 409):
        return CallFault(f"http_{code}", f"HTTP {code}: {text}", True)
    if code == 400 and any(hint in text.lower() for hint in CONTEXT_HINTS):
        return CallFault("prompt_too_long", f"HTTP 400: {text}", False)
    if code == 400 and any(hint in text.lower() for hint in SCHEMA_HINTS):
        return CallFault("schema_rejected", f"HTTP 400: {text}", False, fatal=True)
    if code in (401, 403):
        return CallFault(f"http_{code}", f"authentication failed ({code}): {text}", False, fatal=True)
    if code == 404:
        return CallFault("http_404", f"not found (404), unknown model or wrong base_url: {text}",
                         False, fatal=True)
    return CallFault(f"http_{code}", f"HTTP {code}: {text}", False, fatal=True)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:300]
        if isinstance(inner, str):
            return inner[:300]
    return str(exc.message)[:300]


def _dropped(exc: Exception) -> bool:
    """The aiohttp transport reports a dropped connection as a (connect) timeout: tell them apart."""
    cause = str(exc.__cause__ or "").lower()
    return any(word in cause for word in ("disconnect", "reset", "refused", "closed", "broken"))


def _never_connected(exc: BaseException) -> bool:
    """The connection itself failed (refused, no route, DNS): the request never left this host.
    A connection dropped after it was sent may have been billed and is not this."""
    import aiohttp
    import httpx

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, aiohttp.ClientConnectorError | httpx.ConnectError | ConnectionRefusedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _cause(exc: Exception) -> str:
    cause = exc.__cause__ or exc.__context__
    return f"{type(cause).__name__}: {cause}"[:200] if cause else str(exc)[:200]
