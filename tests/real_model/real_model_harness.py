"""The real-model tier's harness, shared by tests/real_model/ and bench/bench_real_model.py.

- `local_model()`: the paths `scripts/local_model.sh env` prints (llama-server binary, GGUF model).
- `LlamaServer(port)`: `scripts/local_model.sh start` on a free port (`-t 1 -np 4`), stopped on exit.
- `UsageProxy(upstream)`: a pass-through HTTP proxy on 127.0.0.1 that sums the `usage` the server
  reports in each response (the server's own count, to hold synth's ledger against).
- `example_run` / `judged_run`: configs/local-llamacpp.yaml through the `synth` CLI on the example
  corpus (real generator, offline judge, curate, export, compare), and on two of its segments with
  the real model as judge too.
- `run_figures(run_dir)`: what synth itself recorded (segments.jsonl, pairs.jsonl, failures.jsonl,
  calls.sqlite, spend.sqlite, judged.jsonl): segments with pairs, first-try validity, re-ask fix
  rate, ledger and call-log tokens, judge attempts and truncations, degenerate verdicts stored ok.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from aiohttp import ClientSession, ClientTimeout, web

from synth.llm.budget import read_spend
from synth.llm.calllog import ANSWERS, read_reask_outcomes

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "local_model.sh"
CONFIG = ROOT / "configs" / "local-llamacpp.yaml"
SYNTH = Path(sys.executable).parent / "synth"  # the console script of this venv
ALIAS = "smollm2-135m"
JUDGED_SEGMENTS = 2  # the real-model judge sees the pairs of this many example segments


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def local_model() -> dict[str, str]:
    """LLAMA_SERVER, LLAMA_MODEL, ... as `scripts/local_model.sh env` prints them."""
    out = subprocess.run(["bash", str(SCRIPT), "env"], capture_output=True, text=True, check=True)
    return dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)


def missing_parts() -> list[str]:
    """What `scripts/local_model.sh build` / `model` has not made yet on this machine."""
    env = local_model()
    return [f"{key} {env[key]}" for key in ("LLAMA_SERVER", "LLAMA_MODEL") if not Path(env[key]).is_file()]


class LlamaServer:
    """llama-server on 127.0.0.1:`port` through scripts/local_model.sh (start ... stop)."""

    def __init__(self, port: int | None = None, threads: int = 1, slots: int = 4):
        self.port = port or free_port()
        self.env = {**os.environ, "SYNTH_LLAMA_PORT": str(self.port), "SYNTH_LLAMA_THREADS": str(threads),
                    "SYNTH_LLAMA_SLOTS": str(slots)}
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        missing = missing_parts()
        if missing:  # start would build for ~15 min: that is scripts/local_model.sh build's job
            raise FileNotFoundError("not built: " + ", ".join(missing)
                                    + " (run scripts/local_model.sh build && scripts/local_model.sh model)")
        try:
            out = subprocess.run(["bash", str(SCRIPT), "start"], env=self.env, capture_output=True,
                                 text=True, timeout=180)
        except subprocess.TimeoutExpired:
            self.__exit__()  # a start that hung may have left a server behind
            raise
        if out.returncode != 0:
            self.__exit__()
            raise RuntimeError(f"scripts/local_model.sh start failed: {out.stderr[-2000:]}")
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run(["bash", str(SCRIPT), "stop"], env=self.env, capture_output=True, timeout=60)


@dataclass
class Usage:
    responses: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class UsageProxy:
    """Forwards every request to `upstream` and adds up the usage of each JSON answer."""

    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.usage = Usage()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._stop: asyncio.Event | None = None

    def reset(self) -> Usage:
        with self._lock:
            usage, self.usage = self.usage, Usage()
        return usage

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "authorization")}
        async with self._session.request(request.method, self.upstream + request.path_qs, data=body,
                                         headers=headers) as answer:
            raw = await answer.read()
            status, ctype = answer.status, answer.headers.get("Content-Type", "application/json")
        if status == 200 and request.path.endswith("/chat/completions"):
            self._count(json.loads(raw))
        return web.Response(body=raw, status=status, content_type=ctype.split(";")[0])

    def _count(self, answer: dict[str, Any]) -> None:
        usage = answer.get("usage") or {}
        with self._lock:
            self.usage.responses += 1
            self.usage.prompt_tokens += int(usage.get("prompt_tokens", 0))
            self.usage.completion_tokens += int(usage.get("completion_tokens", 0))
            for choice in answer.get("choices", []):
                reason = str(choice.get("finish_reason"))
                self.usage.finish_reasons[reason] = self.usage.finish_reasons.get(reason, 0) + 1

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        self._session = ClientSession(timeout=ClientTimeout(total=None))
        app = web.Application(client_max_size=64 << 20)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()
        await self._session.close()

    def _serve(self) -> None:
        self._loop.run_until_complete(self._main())

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("usage proxy did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def degenerate(judgment: dict[str, Any], pair: dict[str, Any]) -> list[str]:
    """Why a stored verdict is not evidence (issue 17 item 3): a rationale without a word, one
    rationale copied into another criterion, a flag quote that is not in the pair."""
    why = []
    rationales = [s["rationale"] for s in judgment.get("scores", {}).values()]
    if any(not re.search(r"[A-Za-z]{2}", r) for r in rationales):
        why.append("rationale_without_words")
    normalised = [_words(r) for r in rationales]
    if len(set(normalised)) < len(normalised):
        why.append("rationale_copied")
    text = _words(pair["question"] + " " + pair["answer"])
    if any(_words(f["quote"]) not in text for f in judgment.get("safety_flags", [])):
        why.append("flag_quote_not_in_pair")
    return why


def _calls(run_dir: Path) -> list[tuple[str, str, int, str, int, int]]:
    """The call log's rows of calls to a server (the offline provider's rows are not calls)."""
    db = sqlite3.connect(f"file:{run_dir / 'calls.sqlite'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT stage, item_id, attempt, status, prompt_tokens, completion_tokens "
                          "FROM calls WHERE provider != 'offline' ORDER BY id").fetchall()
    finally:
        db.close()


def run_figures(run_dir: Path) -> dict[str, Any]:
    """The tier's figures, from the files synth wrote in `run_dir`."""
    segments = {s["segment_id"] for s in _jsonl(run_dir / "segments.jsonl")}
    pairs = _jsonl(run_dir / "pairs.jsonl")
    with_pairs = {p["segment_id"] for p in pairs if p.get("revision", 0) == 0}
    failed = {f["segment_id"] for f in _jsonl(run_dir / "failures.jsonl")} - with_pairs
    calls = _calls(run_dir)
    answers: dict[tuple[str, str], list[str]] = {}  # (stage, item) -> statuses of its answers in order
    for stage, item, _attempt, status, _p, _c in calls:
        if status in ANSWERS:
            answers.setdefault((stage.split(":")[0], item), []).append(status)
    reasks = read_reask_outcomes(run_dir / "calls.sqlite", "generate")  # synth status's own count
    judge_rows = [s for k, v in answers.items() if k[0] == "judge" for s in v]
    by_id = {p["pair_id"]: p for p in pairs}
    judged = [j for j in _jsonl(run_dir / "judged.jsonl") if j.get("judgment")]
    real = [j for j in judged if not j["judgment"]["judge_model"].startswith("offline")]
    degenerate_ok = [j["pair"]["pair_id"] for j in real if j["judgment"]["status"] == "ok"
                     and degenerate(j["judgment"], by_id.get(j["pair"]["pair_id"], j["pair"]))]
    ledger = read_spend(run_dir / "spend.sqlite")  # the totals synth status prints
    return {
        "segments": len(segments), "segments_with_pairs": len(with_pairs & segments),
        "segments_failed": len(failed & segments),
        "generate_items": reasks["items"], "first_try_valid": reasks["items"] - reasks["first_invalid"],
        "first_try_invalid": reasks["first_invalid"], "reask_fixed": reasks["fixed_by_reask"],
        "same_seed_reasks": reasks["same_seed_reasks"],
        "generate_answers": sum(len(v) for k, v in answers.items() if k[0] == "generate"),
        "judge_answers": len(judge_rows), "judge_truncated": judge_rows.count("truncated"),
        "revise_answers": sum(len(v) for k, v in answers.items() if k[0] == "revise"),
        "revise_truncated": sum(v.count("truncated") for k, v in answers.items() if k[0] == "revise"),
        "real_verdicts": len(real), "real_verdicts_ok": sum(j["judgment"]["status"] == "ok" for j in real),
        "degenerate_ok": degenerate_ok,
        "calllog_tokens": sum(p + c for _s, _i, _a, status, p, c in calls if status in ANSWERS),
        "calllog_answers": sum(status in ANSWERS for _s, _i, _a, status, _p, _c in calls),
        "calllog_errors": sum(status == "error" for _s, _i, _a, status, _p, _c in calls),
        "ledger_tokens": ledger["tokens"], "ledger_open": ledger["open_tokens"],
    }


def synth(*args: str, timeout: float = 1800) -> dict[str, Any]:
    """`synth ARGS --json` from the repo root: its JSON summary, or RuntimeError with its stderr."""
    out = subprocess.run([str(SYNTH), *args, "--json"], cwd=ROOT, capture_output=True, text=True,
                         timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"synth {' '.join(args)} exited {out.returncode}:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout))


def example_run(proxy: UsageProxy, run_dir: Path, revisions: bool = True
                ) -> tuple[Usage, dict[str, Any], dict[str, Any]]:
    """The example corpus: real generator, offline judge (with the config's revisions, sent to
    the real generator, unless `revisions` is False), curate, export; then compare. Returns the
    server's usage, `synth run`'s and `synth compare`'s JSON."""
    sets = ["--set", f"run_dir={run_dir}", "--set", f"generator.base_url={proxy.url}/v1"]
    if not revisions:
        sets += ["--set", "judge.max_revisions=0"]
    proxy.reset()
    run = synth("run", str(CONFIG), *sets, "--until", "export")
    compare = synth("compare", str(CONFIG), *sets)
    return proxy.reset(), run, compare


def judged_run(proxy: UsageProxy, tmp: Path) -> tuple[Path, Usage]:
    """JUDGED_SEGMENTS segments of the example corpus, generated and judged by the real model
    (one re-ask per verdict, no revisions: the example run revises); returns the run dir and
    the server's usage."""
    tmp.mkdir(parents=True, exist_ok=True)
    corpus = tmp / "segments.jsonl"
    lines = (ROOT / "examples/corpus/clips.jsonl").read_text(encoding="utf-8").splitlines(True)
    corpus.write_text("".join(lines[:JUDGED_SEGMENTS]), encoding="utf-8")
    url = f"{proxy.url}/v1"
    proxy.reset()
    synth("run", str(CONFIG), "--set", f"run_dir={tmp / 'run'}", "--set", f"inputs=[{corpus}]",
          "--set", f"generator.base_url={url}", "--set", "judge.provider=vllm",
          "--set", f"judge.model={ALIAS}", "--set", f"judge.base_url={url}",
          "--set", "judge.max_retries=1", "--set", "judge.max_revisions=0", "--until", "judge")
    return tmp / "run", proxy.reset()
