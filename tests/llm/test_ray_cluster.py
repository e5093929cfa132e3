"""The ray engine on the example corpus: the same pairs and judgments as the local engine, and
a two-node Ray cluster on one machine (`ray start --head` + `ray start --address`) running it."""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ray_runs import records, stop_sessions, two_node_cluster

from synth.cli import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = str(REPO / "configs" / "example.yaml")


def model_sets(url: str) -> list[str]:
    sets = []
    for role in ("generator", "judge"):
        sets += [f"{role}.provider=vllm", f"{role}.model=fake-model", f"{role}.base_url={url}",
                 f"{role}.max_retries=2", f"{role}.backoff_base_s=0.01"]
    sets.append("budget.max_tokens=100000000")  # an unpriced vllm endpoint needs a token cap
    return [arg for s in sets for arg in ("--set", s)]


def test_ray_engine_gives_the_local_engines_pairs_and_judgments(tmp_path, fake_llm, local_ray):
    runs = {}
    for kind in ("local", "ray"):
        run_dir = tmp_path / kind
        code = main(["run", EXAMPLE, "--until", "judge", "--set", f"run_dir={run_dir}",
                     "--set", f"engine.kind={kind}", "--set", "engine.workers=2", *model_sets(fake_llm.url)])
        assert code == 0
        runs[kind] = run_dir
    pairs = records(runs["local"] / "pairs.jsonl")
    assert len(pairs) > 20 and pairs == records(runs["ray"] / "pairs.jsonl")
    assert records(runs["local"] / "judged.jsonl") == records(runs["ray"] / "judged.jsonl")
    assert sum(fake_llm.answered_keys.values()) == 2 * len(fake_llm.answered_keys)  # same requests


@pytest.mark.slow  # ~1 min: two Ray nodes and a `synth run` subprocess
def test_a_two_node_cluster_runs_the_example(tmp_path, fake_llm):
    pytest.importorskip("ray")
    try:
        with two_node_cluster(tmp_path) as (address, env):
            synth = [str(Path(sys.executable).with_name("synth")), "run", EXAMPLE, "--skip", "validate",
                     "--set", f"run_dir={tmp_path / 'run'}", "--set", "engine.kind=ray",
                     "--set", f"engine.address={address}", "--set", "engine.workers=2",
                     *model_sets(fake_llm.url)]
            done = subprocess.run(synth, env=env, cwd=REPO, capture_output=True, text=True, timeout=600,
                                  check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "2 ray workers on 2 nodes" in done.stderr  # one worker on each node (SPREAD)
        assert (tmp_path / "run" / "reports" / "index.html").exists() and fake_llm.answered > 20
    finally:
        shutil.rmtree(tmp_path / "run", ignore_errors=True)


@pytest.mark.slow  # ~40 s: two `synth run` subprocesses, each starting a local Ray
def test_a_driver_killed_with_sigkill_resumes_and_pays_only_what_was_in_flight(tmp_path, fake_llm):
    pytest.importorskip("ray")
    fake_llm.latency_s = 0.5
    run_dir = tmp_path / "run"
    command = [str(Path(sys.executable).with_name("synth")), "run", EXAMPLE, "--until", "generate",
               "--set", f"run_dir={run_dir}", "--set", "engine.kind=ray", "--set", "engine.workers=2",
               *model_sets(fake_llm.url), "--set", "generator.concurrency=2"]  # 2 x 2 in flight
    driver = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    pairs = run_dir / "pairs.jsonl"
    deadline = time.monotonic() + 300
    try:
        while not (pairs.exists() and len(pairs.read_text().splitlines()) >= 8):
            assert time.monotonic() < deadline and driver.poll() is None
            time.sleep(0.1)
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    finally:
        stop_sessions([driver])  # the killed driver's local Ray
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    segments = {json.loads(line)["segment_id"] for line in pairs.read_text().splitlines()}
    assert len(segments) == 24  # every usable segment of the example has its pairs
    paid_twice = sum(n - 1 for n in fake_llm.answered_keys.values() if n > 1)
    assert paid_twice <= 4  # at most the calls in flight when the driver died
