"""For the Ray tests: a two-node Ray cluster on one machine (`ray start --head` + `ray start
--address`, one CPU each, stopped by process session so no other Ray is touched), and a run's
JSONL records without their timestamps (what a ray run and a local run must agree on)."""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

STAMPS = {"created_at", "at"}  # wall-clock fields: the only ones two runs may differ in


def records(path: Path) -> list[Any]:
    """The JSONL records without their timestamps, sorted (completion order differs)."""
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in STAMPS}
        return [strip(v) for v in value] if isinstance(value, list) else value
    rows = [strip(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ray_start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    ray = str(Path(sys.executable).with_name("ray"))
    command = [ray, "start", "--block", "--num-cpus", "1", "--node-ip-address", "127.0.0.1",
               "--dashboard-agent-listen-port", "0", "--metrics-export-port", str(free_port()), *args]
    return subprocess.Popen(command, env=env, start_new_session=True, stdout=log.open("w"),
                            stderr=subprocess.STDOUT)


def _wait_started(log: Path, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while "Ray runtime started" not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]
        time.sleep(0.5)


def stop_sessions(procs: list[subprocess.Popen[Any]]) -> None:
    """Stop what a test started: each process was started in a new session, so its session
    id names exactly its Ray processes (never `ray stop`, which stops every Ray on the machine)."""
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        subprocess.run(["pkill", "-KILL", "-s", str(proc.pid)], check=False)  # agents left behind


@contextlib.contextmanager
def two_node_cluster(folder: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """(address, env): a head and a second node with one CPU each, token auth on; a driver joins
    with `address` under `env` (its RAY_AUTH_* variables)."""
    port = free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16)}
    nodes = [_ray_start(env, folder / "head.log", "--head", "--port", str(port), "--include-dashboard", "false")]
    try:
        _wait_started(folder / "head.log")
        nodes.append(_ray_start(env, folder / "node2.log", "--address", f"127.0.0.1:{port}"))
        _wait_started(folder / "node2.log")
        yield f"127.0.0.1:{port}", env
    finally:
        stop_sessions(nodes)
        current = Path("/tmp/ray/ray_current_cluster")  # Ray's pointer to the newest local cluster
        if current.exists() and current.read_text().strip().endswith(f":{port}"):
            current.unlink()  # ours, and stopped: a later ray.init() must not try to join it
