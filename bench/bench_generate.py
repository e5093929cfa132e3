"""Benchmark of `synth generate` against a local OpenAI-compatible server (tests/fakes/fake_llm_server.py).

Prints, in one run:
  1. zero-latency server: requests/s of the full generate path (run_generate: prompts,
     validation, cache, budget ledger, call log, JSONL output) vs a minimal asyncio loop of raw
     AsyncOpenAI calls (SDK default client, 64 in flight) with the same request bodies; also the
     raw loop on the SDK's aiohttp transport for reference. Target: full >= 2.5x raw default.
  2. 0.5 s latency server, 64 in flight: full-path requests/s. Target >= 0.95 x 128 = 121.6.
  3. cached replay of a finished 10,000-segment run (outputs deleted, rerun): calls made (target 0).
  4. end to end (--end-to-end N, default 8,000): `synth generate` on export files made by
     bench/bench_ingest.py's recombination of the shared sample corpus (ingest runs first), wall
     against the request window (target <= 2x), and where the rest goes (CLI start, `synth
     ingest`, `synth generate` on ingested segments); cold and warm vector store.
  --split N alone: where `synth generate`'s own time goes outside ingest (bench_split).

    .venv/bin/python bench/bench_generate.py [--quick] [--end-to-end N] [--end-to-end-only]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from synth.config import load_config
from synth.experts import load_experts
from synth.generate.prompts import GenerationPrompts, question_set_model
from synth.generate.stage import build_job, run_generate
from synth.llm.replies import response_format
from synth.records import Segment
from synth.rundir import open_run

EXPERTS = ["therapeutic", "educational", "empathetic", "practical"]
WORDS = ("shame guilt anger fear boundary healing childhood partner nervous system pattern "
         "feeling safe body grief hope trust worth parent friend work night morning habit "
         "practice notice breathe pause repair connection hiding freeze fawn pleasing critic "
         "kindness slow steady small step write journal walk sleep talk listen cry rest ask say")
WORDS_LIST = WORDS.split()
FILLER = "when you you can it is and the this that so because then if what how I your we our"
FILLER_LIST = FILLER.split()
CPU_MS: dict[str, float] = {}  # client CPU (user+sys of this process) per request, last run of each


def make_segments(n: int, seed: int = 7) -> list[Segment]:
    rng = random.Random(seed)
    segments = []
    for i in range(n):
        sentences = [" ".join(rng.choice(WORDS_LIST if k % 2 else FILLER_LIST) for k in range(rng.randint(8, 16)))
                     for _ in range(rng.randint(8, 14))]
        text = ". ".join(s.capitalize() for s in sentences) + f". Note {i}."
        style = EXPERTS[i % 4]
        segments.append(Segment(segment_id=f"b{i:06d}", source_file="bench.json", record_index=i,
                                source_id=f"v{i // 5}", style=style, raw_style=style, text=text,
                                original_text=text, word_count=len(text.split())))
    return segments


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests/fakes/fake_llm_server.py"), "--latency", str(latency),
                             "--approx-usage"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def server_count(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_stats") as response:
        return int(json.load(response)["count"])


def config_for(run_dir: Path, url: str, concurrency: int = 64) -> Any:
    cfg = load_config(ROOT / "configs/example.yaml", [
        f"run_dir={run_dir}", "generator.provider=openai", "generator.model=bench-model",
        f"generator.base_url={url}", f"generator.concurrency={concurrency}", "generator.max_retries=2",
        "generator.price_in_per_mtok=0.5", "generator.price_out_per_mtok=1.5", "budget.max_usd=1000",
        "generator.questions_per_segment=3"])
    cfg.experts = str(ROOT / "configs/experts.yaml")
    cfg.generator.prompts_dir = str(ROOT / "prompts")
    return cfg


def request_bodies(cfg: Any, segments: list[Segment]) -> list[dict[str, Any]]:
    experts = load_experts(cfg.experts)
    prompts = GenerationPrompts.load(cfg, experts)
    return [{"model": cfg.generator.model, "messages": job.request.messages, "temperature": 0.8,
             "max_tokens": 512, "seed": job.request.seed,
             **response_format(question_set_model(len(job.slots), job.types))}
            for job in (build_job(cfg.generator, cfg.seed, prompts, experts, s) for s in segments)]


async def raw_loop(url: str, bodies: list[dict[str, Any]], aiohttp: bool, in_flight: int = 64) -> float:
    from openai import AsyncOpenAI, DefaultAioHttpClient

    client = AsyncOpenAI(base_url=url, api_key="EMPTY", max_retries=0,
                         http_client=DefaultAioHttpClient() if aiohttp else None)
    queue = iter(bodies)

    async def worker() -> None:
        for body in queue:
            await client.chat.completions.create(**body)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    elapsed = time.perf_counter() - started
    CPU_MS[f"raw {'aiohttp' if aiohttp else 'default'}"] = (time.process_time() - cpu) / len(bodies) * 1e3
    await client.close()
    return len(bodies) / elapsed


def full_path(url: str, segments: list[Segment], work: Path, concurrency: int = 64) -> tuple[float, int, float]:
    """(requests/s end to end, requests, requests/s inside the LLM batch)."""
    run_dir = work / f"run-{time.time_ns()}"
    cfg = config_for(run_dir, url, concurrency)
    run = open_run(cfg)
    before = server_count(url)
    started, cpu = time.perf_counter(), time.process_time()
    summary = run_generate(cfg, run, segments, progress=False)
    elapsed = time.perf_counter() - started
    calls = server_count(url) - before
    CPU_MS["synth generate"] = (time.process_time() - cpu) / max(calls, 1) * 1e3
    return calls / elapsed, calls, calls / max(summary.batch_seconds, 1e-9)


def bench_throughput(n: int, work: Path, rounds: int) -> None:
    proc, url = start_server(0.0)
    try:
        segments = make_segments(n, seed=1)
        bodies = request_bodies(config_for(work / "x", url), segments)
        asyncio.run(raw_loop(url, bodies[:300], aiohttp=False))  # warm up both sides
        raw, aio, full = [], [], []
        for r in range(rounds):
            raw.append(asyncio.run(raw_loop(url, bodies, aiohttp=False)))
            aio.append(asyncio.run(raw_loop(url, bodies, aiohttp=True)))
            full.append(full_path(url, make_segments(n, seed=100 + r), work)[0])
            cpu = ", ".join(f"{k} {v:.2f}" for k, v in CPU_MS.items())
            print(f"  round {r + 1}: raw default {raw[-1]:.0f}/s, raw aiohttp {aio[-1]:.0f}/s, "
                  f"synth generate {full[-1]:.0f}/s; client CPU ms/request: {cpu}", flush=True)
        best_raw, best_full = max(raw), max(full)
        print(f"zero latency, {n} requests, 64 in flight (best of {rounds}):")
        print(f"  raw AsyncOpenAI loop, default client : {best_raw:8.0f} req/s")
        print(f"  raw AsyncOpenAI loop, aiohttp client : {max(aio):8.0f} req/s")
        print(f"  synth generate (full path)           : {best_full:8.0f} req/s  "
              f"= {best_full / best_raw:.2f}x raw default (target >= 2.50x)")
    finally:
        proc.kill()


def bench_latency(n: int, work: Path) -> None:
    proc, url = start_server(0.5)
    try:
        bodies = request_bodies(config_for(work / "x", url), make_segments(n, seed=4))
        raw = asyncio.run(raw_loop(url, bodies, aiohttp=False))
        rate, calls, in_batch = full_path(url, make_segments(n, seed=2), work)
        print(f"0.5 s latency, 64 in flight: synth generate {rate:.1f} req/s end to end, {in_batch:.1f} "
              f"req/s in the batch, over {calls} requests (target >= {0.95 * 128:.1f}; ideal 128); "
              f"raw AsyncOpenAI loop {raw:.1f} req/s")
    finally:
        proc.kill()


def bench_replay(n: int, work: Path) -> None:
    proc, url = start_server(0.0)
    try:
        segments = make_segments(n, seed=3)
        cfg = config_for(work / "replay", url)
        run = open_run(cfg)
        started = time.perf_counter()
        run_generate(cfg, run, segments, progress=False)
        first_s, first_calls = time.perf_counter() - started, server_count(url)
        run.pairs.unlink()
        run.failures.unlink(missing_ok=True)
        started = time.perf_counter()
        summary = run_generate(cfg, run, segments, progress=False)
        replay_s, calls = time.perf_counter() - started, server_count(url) - first_calls
        print(f"cached replay of a finished {n}-segment run: {calls} calls (target 0), "
              f"{summary.cached} cached answers, {replay_s:.1f} s (first run {first_calls} calls, {first_s:.1f} s)")
    finally:
        proc.kill()


def _cli(args: list[str], env: dict[str, str]) -> tuple[float, str, float]:
    """(wall s, stdout, CPU s of the child: user+sys, its own children included)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(Path(sys.executable).parent / "synth"), *args], env=env,
                          capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"synth {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return wall, done.stdout, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def bench_end_to_end(n: int, work: Path) -> None:
    """`synth generate` from the export files (ingest first) vs its request window, and where the
    rest goes: CLI start, ingest, the generate command on ingested segments; then the same with
    the machine's vector store warm (a second run dir)."""
    from bench_ingest import make_corpus

    corpus = work / "e2e-corpus"
    make_corpus(ROOT.parent / "shared/data/segments", corpus, n)
    proc, url = start_server(0.0)
    env = {**os.environ, "SYNTH_VECTOR_STORE": str(work / "e2e-vectors.sqlite"), "HF_HUB_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    try:
        for label in ("cold vector store", "warm vector store"):
            run_dir = work / f"e2e-{label.split()[0]}"
            sets = [f"run_dir={run_dir}", f"inputs=['{corpus}/*.json']", f"experts={ROOT / 'configs/experts.yaml'}",
                    "generator.provider=openai", "generator.model=bench-model", f"generator.base_url={url}",
                    "generator.concurrency=64", "budget.max_usd=1000", "generator.price_in_per_mtok=0.5",
                    "generator.price_out_per_mtok=1.5", f"generator.prompts_dir={ROOT / 'prompts'}"]
            flags = [x for item in sets for x in ("--set", item)]
            config = str(ROOT / "configs/example.yaml")
            whole, out, whole_cpu = _cli(["generate", config, *flags, "--json"], env)
            window = json.loads(out)["batch_seconds"]
            start, _, start_cpu = _cli(["--help"], env)
            again = run_dir.with_name(run_dir.name + "-split")
            split = [f if f != f"run_dir={run_dir}" else f"run_dir={again}" for f in flags]
            ingest, _, ingest_cpu = _cli(["ingest", config, *split], env)
            generate, _, generate_cpu = _cli(["generate", config, *split, "--json"], env)
            print(f"end to end, {n} segments, zero latency, {label}: synth generate (ingest first) {whole:.1f} s "
                  f"wall for a {window:.1f} s request window = {whole / max(window, 1e-9):.1f}x (target <= 2x); "
                  f"where it goes: CLI start {start:.1f} s, synth ingest {ingest:.1f} s, synth generate on "
                  f"ingested segments {generate:.1f} s (requests {window:.1f} s + prompts, validation, writing); "
                  f"CPU s (user+sys): whole {whole_cpu:.1f}, CLI start {start_cpu:.1f}, ingest {ingest_cpu:.1f}, "
                  f"generate {generate_cpu:.1f}; load average {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        proc.kill()


def bench_split(n: int, work: Path) -> None:
    """Where `synth generate`'s own time goes, outside ingest: an in-process run on n segments
    already in segments.jsonl (bench-made, no ingest), zero-latency server, timed by stage part:
    reading the segments, building the requests (prompt rendering, per-segment plan: before the
    first request), opening the engine (the HTTP client and its imports), the request window
    (requests, validation and writing pairs, the budget ledger), scanning the run's pairs for
    done segments and final failures, and the rest (config, prompts, sets, summary). Building the
    requests lazily, as the batch asks for them, was tried (8,000 segments, one run each, load
    average 8-8.5): 103.3 s wall against 82.5 s built first; it moved their time into the window
    (1.03x instead of 1.16x) without shortening the wall, so they are built first."""
    from synth.cli.generate import load_segments
    from synth.files import write_jsonl
    from synth.generate import stage

    proc, url = start_server(0.0)
    parts: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                parts[name] = parts.get(name, 0.0) + time.perf_counter() - started
        return wrapper

    originals = {name: getattr(stage, name) for name in ("build_job", "make_engine", "finished_segments",
                                                         "failed_for_good")}
    try:
        cfg = config_for(work / "split", url)
        run = open_run(cfg)
        write_jsonl(run.segments, make_segments(n))
        for name, fn in originals.items():
            setattr(stage, name, timed(name, fn))
        started, cpu = time.perf_counter(), time.process_time()
        segments = timed("read segments", load_segments)(cfg, run)
        summary = run_generate(cfg, run, segments, progress=False)
        whole, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        for name, fn in originals.items():
            setattr(stage, name, fn)
        proc.kill()
    window = summary.batch_seconds
    shown = {"read segments": parts["read segments"], "build requests": parts["build_job"],
             "open engine": parts["make_engine"],
             "done-segment scans": parts["finished_segments"] + parts["failed_for_good"]}
    rest = whole - window - sum(shown.values())
    print(f"synth generate alone (no ingest), {n} segments, zero latency: {whole:.1f} s wall (CPU {cpu:.1f} s) for a "
          f"{window:.1f} s request window = {whole / max(window, 1e-9):.2f}x; outside the window: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in shown.items()) + f", the rest {rest:.1f} s; {summary.calls} calls; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    parser.add_argument("--end-to-end", type=int, default=8000, metavar="N",
                        help="segments of the end-to-end run from export files (0: skip it)")
    parser.add_argument("--end-to-end-only", action="store_true", help="only the end-to-end run (part 4)")
    parser.add_argument("--split", type=int, default=0, metavar="N",
                        help="only where synth generate's own time goes, in-process on N segments (no ingest)")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (other work on the machine "
          "slows every figure; the ratios are measured in the same run)")
    work = Path(tempfile.mkdtemp(prefix="synth-bench-"))
    try:
        if args.split:
            bench_split(args.split, work)
            return
        if not args.end_to_end_only:
            bench_throughput(1000 if args.quick else 3000, work, 1 if args.quick else 3)
            bench_latency(256 if args.quick else 1920, work)
            bench_replay(1000 if args.quick else 10_000, work)
        if args.end_to_end:
            bench_end_to_end(args.end_to_end, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
