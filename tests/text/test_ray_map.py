"""Encoding and PII redaction with `engine.kind: ray`: texts go to Ray Data map_batches only
inside on_cluster and from engine.cluster_min_texts up, and on a two-node cluster the example
run's vectors, segments, quarantine, pairs and judgments equal the local engine's."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ray_runs import records, two_node_cluster

from synth.errors import ConfigError, SynthError
from synth.llmconfig import EngineConfig
from synth.text import embeddings, ray_encode, ray_map
from synth.text.encoder import cache_dir

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = str(REPO / "configs" / "example.yaml")
needs_encoder = pytest.mark.skipif(not embeddings.available(), reason="embed extra not installed")


@needs_encoder
def test_only_enough_new_texts_inside_on_cluster_go_to_the_cluster(monkeypatch) -> None:
    monkeypatch.setenv("SYNTH_VECTOR_STORE_MB", "0")  # every text is new
    sent: list[int] = []

    def cluster(texts: list[str], max_tokens: int | None, engine: EngineConfig) -> np.ndarray:
        sent.append(len(texts))
        return embeddings._encoder().encode(texts, max_tokens=max_tokens)

    monkeypatch.setattr(ray_encode, "encode_on_cluster", cluster)
    texts = [f"Worry at night, case {i}." for i in range(4)]
    embeddings.embed(texts)
    with ray_map.on_cluster(EngineConfig(kind="local", cluster_min_texts=1)):
        embeddings.embed(texts)
    with ray_map.on_cluster(EngineConfig(kind="ray", cluster_min_texts=5)):
        embeddings.embed(texts)  # 4 < 5: encoded here
    assert sent == []
    with ray_map.on_cluster(EngineConfig(kind="ray", cluster_min_texts=4)):
        local = embeddings.embed(texts)
    assert sent == [4] and ray_map._CLUSTER == []
    assert np.array_equal(local, embeddings.embed(texts))


def test_enough_new_texts_inside_on_cluster_are_redacted_on_the_cluster(monkeypatch) -> None:
    piibulk = pytest.importorskip("synth.ingest.piibulk")
    monkeypatch.setenv("SYNTH_REDACTION_STORE_MB", "0")  # every text is new
    sent: list[int] = []

    def cluster(texts: list[str], engine: EngineConfig) -> list[tuple[str, dict[str, int]]]:
        sent.append(len(texts))
        return piibulk.redact_texts(texts)

    monkeypatch.setattr(piibulk, "redact_on_cluster", cluster)
    texts = ["Email me at jo.doe@example.org tonight.", "Call 555-201-3344 after work.", "Rest first."]
    here, _ = piibulk.redact_many(texts, processes=1)
    with ray_map.on_cluster(EngineConfig(kind="ray", cluster_min_texts=4)):
        piibulk.redact_many(texts, processes=1)
    assert sent == []
    with ray_map.on_cluster(EngineConfig(kind="ray", cluster_min_texts=3)):
        there, fresh = piibulk.redact_many(texts, processes=1)
    assert sent == [3] and fresh == 3 and there == here


@needs_encoder
def test_a_worker_that_cannot_do_the_work_stops_the_run_in_one_line() -> None:
    ray = pytest.importorskip("ray")
    started = not ray.is_initialized()
    if started:
        ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        with pytest.raises(SynthError) as caught:  # the driver's encoder on CUDA, the node's on the CPU
            ray_map.map_texts(["Rest first."] * 3, ray_encode.EncodeBatch,
                              {"max_tokens": None, "provider": "CUDAExecutionProvider"}, EngineConfig(kind="ray"),
                              batch=64, what="texts encoded")
    finally:
        if started:
            ray.shutdown()
    message = str(caught.value)
    assert "runs on CPUExecutionProvider, the driver's on CUDAExecutionProvider" in message and "\n" not in message


def test_without_ray_installed_the_cluster_is_a_config_error(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(ConfigError, match=r"engine.kind.*pip install -e '\.\[ray\]'"):
        ray_map.map_texts(["Rest first."], ray_encode.EncodeBatch, {}, EngineConfig(kind="ray"), batch=64,
                          what="texts encoded")


def _vectors(path: Path) -> dict[str, bytes]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT key, vec FROM vectors"))


@needs_encoder
@pytest.mark.slow  # ~2 min: two Ray nodes and two `synth run` subprocesses
def test_a_two_node_cluster_encodes_and_redacts_what_the_local_engine_does(tmp_path) -> None:
    pytest.importorskip("ray")
    stderr = {}
    with two_node_cluster(tmp_path) as (address, env):
        for kind in ("local", "ray"):
            cache = tmp_path / f"{kind}-cache"  # its own vector, screen and redaction stores
            shutil.copytree(cache_dir() / "encoders", cache / "encoders")  # the export, not the vectors
            command = [str(Path(sys.executable).with_name("synth")), "run", EXAMPLE, "--until", "judge",
                       "--set", f"run_dir={tmp_path / kind}", "--set", f"engine.kind={kind}",
                       "--set", f"engine.address={address}", "--set", "engine.cluster_min_texts=1"]
            done = subprocess.run(command, env={**env, "SYNTH_CACHE_DIR": str(cache)}, cwd=REPO,
                                  capture_output=True, text=True, timeout=600, check=False)
            assert done.returncode == 0, done.stderr[-3000:]
            stderr[kind] = done.stderr
    assert "texts encoded on 2 ray nodes" in stderr["ray"] and "ray node" not in stderr["local"]
    assert "texts PII-redacted on 1 ray node" in stderr["ray"]
    local = _vectors(tmp_path / "local-cache" / "vectors.sqlite")
    assert len(local) > 100 and local == _vectors(tmp_path / "ray-cache" / "vectors.sqlite")  # bit for bit
    for name in ("segments.jsonl", "quarantine.jsonl", "pairs.jsonl", "judged.jsonl"):
        assert records(tmp_path / "local" / name) == records(tmp_path / "ray" / name), name
