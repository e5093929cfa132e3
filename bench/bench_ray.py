"""Benchmark of the ray engine against the local engine (`synth generate`, fake servers).

Two fake OpenAI-compatible servers (tests/fakes/fake_llm_server.py) answer every request in
0.5 s. The same segments go through `run_generate` twice per round, in fresh run dirs:
  - local engine: one process, generator.concurrency = workers x per_worker in flight;
  - ray engine: engine.kind=ray on a local Ray, engine.workers workers x per_worker in flight.
Prints requests/s inside the LLM batch for each (goal: ray >= 0.9 x local: the cluster must not
cost throughput where one machine suffices) and the driver's CPU per request (this process:
prompts, cache, ledger, call log, validation, JSONL and, for ray, dispatch; the HTTP work of
the ray engine is in the workers).

    .venv/bin/python bench/bench_ray.py [--quick] [--workers 4] [--per-worker 32]

With `--encode N`, instead: the sentence encoding of N ingest-like segments (bench_ingest's
recombined sample corpus, read to the model's 256 tokens as ingest reads them) on this process
(the local path, one thread per core) against Ray Data map_batches on a local Ray
(synth.text.ray_encode, one actor per CPU, actor start-up included). Prints texts/s and texts per
CPU-second, where CPU is user+sys of this process and, for Ray, of every Ray process it started
(sampled every 0.2 s, so a process that ends loses at most that much), and checks the vectors
are equal bit for bit.

    .venv/bin/python bench/bench_ray.py --encode 1000 [--corpus ../shared/data/segments]
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_generate import make_segments

from synth.config import load_config
from synth.generate.stage import run_generate
from synth.rundir import open_run

LATENCY_S = 0.5


def start_servers(count: int) -> list[tuple[subprocess.Popen[str], str]]:
    servers = []
    for _ in range(count):
        proc = subprocess.Popen([sys.executable, str(ROOT / "tests/fakes/fake_llm_server.py"),
                                 "--latency", str(LATENCY_S), "--approx-usage"],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        servers.append((proc, proc.stdout.readline().strip()))
    return servers


def config_for(run_dir: Path, urls: list[str], engine: str, workers: int, per_worker: int) -> Any:
    concurrency = per_worker if engine == "ray" else workers * per_worker
    cfg = load_config(ROOT / "configs/example.yaml", [
        f"run_dir={run_dir}", "generator.provider=vllm", "generator.model=bench-model",
        f"generator.base_url=[{','.join(urls)}]", f"generator.concurrency={concurrency}",
        "generator.max_retries=2", "generator.price_in_per_mtok=0.5",
        "generator.price_out_per_mtok=1.5", "budget.max_usd=1000", "generator.questions_per_segment=3",
        f"engine.kind={engine}", f"engine.workers={workers}"])
    cfg.experts = str(ROOT / "configs/experts.yaml")
    cfg.generator.prompts_dir = str(ROOT / "prompts")
    return cfg


def one_run(engine: str, urls: list[str], n: int, seed: int, work: Path, workers: int,
            per_worker: int) -> tuple[float, float]:
    """(requests/s inside the batch, driver CPU ms per request)."""
    cfg = config_for(work / f"{engine}-{time.time_ns()}", urls, engine, workers, per_worker)
    run = open_run(cfg)
    cpu = time.process_time()
    summary = run_generate(cfg, run, make_segments(n, seed=seed), progress=False)
    cpu_ms = (time.process_time() - cpu) / max(summary.calls, 1) * 1e3
    assert summary.failed == 0 and summary.calls == n, summary
    return summary.calls / max(summary.batch_seconds, 1e-9), cpu_ms


class TreeCPU:
    """User+sys CPU seconds of this process and its descendants since start(), sampled."""

    def __init__(self) -> None:
        import psutil

        self.me, self.base, self.last = psutil.Process(), {}, {}
        self.stop = threading.Event()

    def _sample(self) -> dict[tuple[int, float], float]:
        import psutil

        seen = {}
        for proc in [self.me, *self.me.children(recursive=True)]:
            try:
                times = proc.cpu_times()
                seen[(proc.pid, proc.create_time())] = times.user + times.system
            except psutil.Error:  # ended between the listing and the read
                continue
        return seen

    def __enter__(self) -> TreeCPU:
        self.base = self.last = self._sample()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        return self

    def _loop(self) -> None:
        while not self.stop.wait(0.2):
            self.last = {**self.last, **self._sample()}

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.last = {**self.last, **self._sample()}

    def seconds(self) -> float:
        return sum(v - self.base.get(k, 0.0) for k, v in self.last.items())


def encode_bench(n: int, corpus: Path) -> None:
    """Local encoding against map_batches on a local Ray (see the module docstring)."""
    import json

    import numpy as np
    import ray
    from bench_ingest import make_corpus

    from synth.llmconfig import EngineConfig
    from synth.text.encoder import load_encoder
    from synth.text.ray_encode import encode_on_cluster

    with tempfile.TemporaryDirectory(prefix="synth-bench-encode-") as tmp:
        make_corpus(corpus, Path(tmp), n)
        texts = [s["text"] for f in sorted(Path(tmp).glob("*.json")) for s in json.loads(f.read_text())["segments"]]
    print(f"{len(texts)} segment texts, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    with TreeCPU() as cpu:
        started = time.perf_counter()
        local = load_encoder().encode(texts)
        wall = time.perf_counter() - started
    rows = [("local (this process)", wall, cpu.seconds())]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the shutdown below
    with TreeCPU() as cpu:
        started = time.perf_counter()
        ray.init(address="local", include_dashboard=False, log_to_driver=False, configure_logging=False)
        try:
            ready = time.perf_counter()
            cpu.last = {**cpu.last, **cpu._sample()}
            start_cpu = cpu.seconds()
            remote = encode_on_cluster(texts, None, EngineConfig(kind="ray"))
            wall = time.perf_counter() - ready
        finally:
            ray.shutdown()
    rows.append(("map_batches (local Ray)", wall, cpu.seconds() - start_cpu))
    print(f"{'path':26} {'wall s':>7} {'CPU s':>7} {'texts/s':>8} {'texts/CPU-s':>11}")
    for name, seconds, cpu_s in rows:
        print(f"{name:26} {seconds:7.1f} {cpu_s:7.1f} {len(texts) / seconds:8.1f} {len(texts) / cpu_s:11.1f}")
    print(f"map_batches / local, texts per CPU-s: {rows[0][2] / rows[1][2]:.2f} (the pass: its actors' start and "
          f"encoder load, Ray's own processes meanwhile; Ray's start-up before it, {start_cpu:.1f} CPU-s, apart); "
          f"vectors equal: {np.array_equal(local, remote)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--per-worker", type=int, default=32)
    parser.add_argument("--encode", type=int, default=0, help="instead: encoding of N segments, local vs map_batches")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/data/segments")
    args = parser.parse_args()
    if args.encode:
        encode_bench(args.encode, args.corpus)
        return
    import ray

    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; fake servers answer in "
          f"{LATENCY_S} s; {args.workers} workers x {args.per_worker} in flight "
          f"(ideal {args.workers * args.per_worker / LATENCY_S:.0f} req/s)")
    n = 768 if args.quick else 2560
    rounds = 1 if args.quick else 2
    servers = start_servers(2)
    urls = [url for _, url in servers]
    work = Path(tempfile.mkdtemp(prefix="synth-bench-ray-"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanup below
    ray.init(address="local", include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        local, remote = [], []
        for r in range(rounds):
            local.append(one_run("local", urls, n, 10 + r, work, args.workers, args.per_worker))
            remote.append(one_run("ray", urls, n, 20 + r, work, args.workers, args.per_worker))
            print(f"  round {r + 1}: local {local[-1][0]:.1f} req/s ({local[-1][1]:.2f} ms CPU/request), "
                  f"ray {remote[-1][0]:.1f} req/s ({remote[-1][1]:.2f} ms CPU/request)", flush=True)
        best_local, best_ray = max(x[0] for x in local), max(x[0] for x in remote)
        cpu_local, cpu_ray = min(x[1] for x in local), min(x[1] for x in remote)
        print(f"{n} requests a run, best of {rounds}:")
        print(f"  local engine : {best_local:7.1f} req/s, driver CPU {cpu_local:.2f} ms/request")
        print(f"  ray engine   : {best_ray:7.1f} req/s, driver CPU {cpu_ray:.2f} ms/request")
        print(f"  ray / local  : {best_ray / best_local:.2f} (goal >= 0.90); driver overhead of "
              f"dispatch {cpu_ray - cpu_local:+.2f} ms/request")
    finally:
        ray.shutdown()
        for proc, _ in servers:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
