"""Benchmark: a run over three replicas of which one refuses connections.

Two fake OpenAI-compatible servers (tests/fakes/fake_llm_server.py, each in its own process,
answering in --latency seconds) and a third base_url whose port refuses connections. The same
`synth generate` run (64 in flight) goes once to the two live replicas alone and once to all
three; the dead replica must be taken out of rotation (synth/llm/breaker.py) so that the
second run finishes with 0 failures at >= 0.8 of the first run's throughput.

    .venv/bin/python bench/bench_replicas.py [--segments 800] [--latency 0.25] [--rounds 2]
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from synth.config import load_config
from synth.generate import run_generate
from synth.records import Segment
from synth.rundir import open_run

WORDS = ["shame", "guilt", "anger", "fear", "boundary", "healing", "childhood", "partner", "nervous",
         "system", "pattern", "feeling", "safe", "body", "grief", "hope", "trust", "worth", "parent",
         "friend", "work", "night", "morning", "habit", "practice", "notice", "breathe", "pause",
         "repair", "connection", "hiding", "freeze", "pleasing", "critic", "kindness", "slow"]
EXPERTS = ("therapeutic", "educational", "empathetic", "practical")


def make_segments(n: int) -> list[Segment]:
    segments = []
    for i in range(n):
        words = [WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(90)]
        text = " ".join(words).capitalize() + f". Note {i}."
        style = EXPERTS[i % 4]
        segments.append(Segment(segment_id=f"r{i:06d}", source_file="bench.json", record_index=i,
                                source_id=f"v{i // 5}", style=style, raw_style=style, text=text,
                                original_text=text, word_count=len(words) + 2))
    return segments


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests/fakes/fake_llm_server.py"), "--latency",
                             str(latency), "--approx-usage"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def one_run(urls: list[str], segments: list, work: Path) -> tuple[float, int, int, dict[str, int]]:
    """(seconds, pairs written, failed segments, replicas taken out) of one generate run."""
    run_dir = work / f"run-{time.time_ns()}"
    cfg = load_config(ROOT / "configs/example.yaml", [
        f"run_dir={run_dir}", "generator.provider=vllm", "generator.model=bench-model",
        f"generator.base_url=[{', '.join(urls)}]", "generator.concurrency=64",
        "generator.max_retries=3", "generator.timeout_s=30", "budget.max_usd=null",
        "generator.questions_per_segment=3"])
    cfg.experts = str(ROOT / "configs/experts.yaml")
    cfg.generator.prompts_dir = str(ROOT / "prompts")
    started = time.perf_counter()
    summary = run_generate(cfg, open_run(cfg), segments, progress=False)
    return time.perf_counter() - started, summary.pairs_written, summary.failed, summary.replicas_out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=800)
    parser.add_argument("--latency", type=float, default=0.25)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {args.segments} segments, "
          f"server latency {args.latency} s, 64 in flight")
    servers = [start_server(args.latency) for _ in range(2)]
    live = [url for _, url in servers]
    dead = refused_url()
    work = Path(tempfile.mkdtemp(prefix="synth-bench-replicas-"))
    try:
        segments = make_segments(args.segments)
        one_run(live, segments[:200], work)  # warm up
        ratios = []
        for r in range(args.rounds):
            two, pairs2, failed2, _ = one_run(live, segments, work)
            three, pairs3, failed3, out = one_run([live[0], dead, live[1]], segments, work)
            ratio = two / three
            ratios.append(ratio)
            print(f"round {r + 1}: two live replicas {two:.2f} s ({pairs2} pairs, {failed2} failed); "
                  f"three with one refusing {three:.2f} s ({pairs3} pairs, {failed3} failed; "
                  f"taken out: {out}); throughput ratio {ratio:.3f}")
            assert failed3 == 0 and pairs3 == pairs2, "the dead replica cost failures"
        print(f"throughput with a refusing replica / two live replicas alone: "
              f"{min(ratios):.3f}-{max(ratios):.3f} (target >= 0.8)")
    finally:
        for proc, _ in servers:
            proc.terminate()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
