"""The local review page: a stdlib HTTP server over one ReviewSession.

Routes:
  GET  /                     the page (synth/review_page.html)
  GET  /api/items            {"items": [ReviewItem], "decisions": {pair_id: ReviewDecision}, ...}
  GET  /api/items/<pair_id>  one item with its decision (404 when not in the sample)
  POST /api/decisions        {"pair_id", "decision": "accept"|"reject", "note"} -> the saved decision
Anything else is 404; a path with '..' is 400; a POST that is not JSON is 415 (which also keeps
other sites' plain form posts out), bad JSON or a bad field 400, a pair not in the sample 404,
a body over 64 KiB 413. It binds to 127.0.0.1 unless told otherwise.
"""
from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import ValidationError

from synth.review.session import ReviewSession

PAGE = Path(__file__).with_name("page.html")
MAX_BODY = 64 * 1024


class ReviewRequestError(Exception):
    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status


def host_allowed(header: str | None, bound: str) -> bool:
    """Against DNS rebinding: the Host a browser sends must be the bound address, localhost or an
    IP literal; a DNS name that merely resolves to this machine is refused."""
    if not header:
        return False
    host = urlsplit(f"//{header}").hostname or ""
    if host in (bound.lower(), "localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class ReviewHandler(BaseHTTPRequestHandler):
    session: ReviewSession  # set on the subclass that make_server builds
    reviewer: str = "reviewer"
    server_version = "synth-review"

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: the CLI prints the address; requests are not logged

    def _route(self) -> str:
        if not host_allowed(self.headers.get("Host"), str(self.server.server_address[0])):
            raise ReviewRequestError(HTTPStatus.MISDIRECTED_REQUEST,
                                     "unknown Host header: open the page at the address synth printed")
        path = unquote(urlsplit(self.path).path)
        if ".." in path.split("/") or "\\" in path:
            raise ReviewRequestError(HTTPStatus.BAD_REQUEST, "path traversal is not allowed")
        return path

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: HTTPStatus, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode("utf-8"), "application/json; charset=utf-8")

    def _handle(self, action: Callable[[], None]) -> None:
        try:
            action()
        except ReviewRequestError as exc:
            self._json(exc.status, {"error": str(exc)})

    def do_GET(self) -> None:
        self._handle(self._get)

    def do_POST(self) -> None:
        self._handle(self._post)

    def _get(self) -> None:
        path = self._route()
        if path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, PAGE.read_bytes(), "text/html; charset=utf-8")
        elif path == "/api/items":
            self._json(HTTPStatus.OK, self._all_items())
        elif path.startswith("/api/items/"):
            self._json(HTTPStatus.OK, self._one_item(path.removeprefix("/api/items/")))
        else:
            raise ReviewRequestError(HTTPStatus.NOT_FOUND, f"no such page: {path}")

    def _all_items(self) -> dict[str, Any]:
        decisions = self.session.store.load()
        return {"items": [item.model_dump() for item in self.session.items],
                "decisions": {k: d.model_dump() for k, d in decisions.items() if k in self.session.item_ids},
                "per_expert": self.session.per_expert, "seed": self.session.seed}

    def _one_item(self, pair_id: str) -> dict[str, Any]:
        item = next((i for i in self.session.items if i.pair_id == pair_id), None)
        if item is None:
            raise ReviewRequestError(HTTPStatus.NOT_FOUND, f"pair {pair_id!r} is not in the review sample")
        decision = self.session.store.load().get(pair_id)
        return {"item": item.model_dump(), "decision": decision.model_dump() if decision else None}

    def _read_json(self) -> dict[str, Any]:
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            raise ReviewRequestError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send application/json")
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            raise ReviewRequestError(HTTPStatus.BAD_REQUEST, "bad Content-Length") from None
        if length > MAX_BODY:
            raise ReviewRequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body too large")
        try:
            payload = json.loads(self.rfile.read(length) or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ReviewRequestError(HTTPStatus.BAD_REQUEST, f"body is not JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise ReviewRequestError(HTTPStatus.BAD_REQUEST, "body must be a JSON object")
        return payload

    def _post(self) -> None:
        if self._route() != "/api/decisions":
            raise ReviewRequestError(HTTPStatus.NOT_FOUND, "POST only to /api/decisions")
        payload = self._read_json()
        pair_id, note = payload.get("pair_id"), payload.get("note", "")
        if not isinstance(pair_id, str) or not isinstance(note, str):
            raise ReviewRequestError(HTTPStatus.BAD_REQUEST, "pair_id and note must be strings")
        try:
            saved = self.session.decide(pair_id, payload.get("decision"), note, self.reviewer)
        except KeyError:
            raise ReviewRequestError(HTTPStatus.NOT_FOUND, f"pair {pair_id!r} is not in the review sample") from None
        except ValidationError as exc:
            raise ReviewRequestError(HTTPStatus.BAD_REQUEST, exc.errors()[0]["msg"]) from None
        self._json(HTTPStatus.OK, saved.model_dump())


def make_server(session: ReviewSession, host: str = "127.0.0.1", port: int = 8765,
                reviewer: str = "reviewer") -> ThreadingHTTPServer:
    """A server for the session (port 0 picks a free port); call serve_forever() on it."""
    handler = type("BoundReviewHandler", (ReviewHandler,), {"session": session, "reviewer": reviewer})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
