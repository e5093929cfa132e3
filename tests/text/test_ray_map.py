"""Encoding with `engine.kind: ray`: texts go to Ray Data map_batches only inside on_cluster and
from engine.encode_min_texts up, and on a two-node cluster the example run's vectors, segments,
quarantine and judgments equal the local engine's."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ray_runs import records, two_node_cluster

from synth.llmconfig import EngineConfig
from synth.text import embeddings, ray_encode

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
    with embeddings.on_cluster(EngineConfig(kind="local", encode_min_texts=1)):
        embeddings.embed(texts)
    with embeddings.on_cluster(EngineConfig(kind="ray", encode_min_texts=5)):
        embeddings.embed(texts)  # 4 < 5: encoded here
    assert sent == []
    with embeddings.on_cluster(EngineConfig(kind="ray", encode_min_texts=4)):
        local = embeddings.embed(texts)
    assert sent == [4] and embeddings._CLUSTER == []
    assert np.array_equal(local, embeddings.embed(texts))


def _vectors(path: Path) -> dict[str, bytes]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT key, vec FROM vectors"))


@needs_encoder
@pytest.mark.slow  # ~2 min: two Ray nodes and two `synth run` subprocesses
def test_a_two_node_cluster_encodes_what_the_local_engine_does(tmp_path) -> None:
    pytest.importorskip("ray")
    stderr = {}
    with two_node_cluster(tmp_path) as (address, env):
        for kind in ("local", "ray"):
            run_env = {**env, "SYNTH_VECTOR_STORE": str(tmp_path / f"{kind}-vectors.sqlite"),
                       "SYNTH_SCREEN_STORE": str(tmp_path / f"{kind}-screens.sqlite")}  # each encodes all
            command = [str(Path(sys.executable).with_name("synth")), "run", EXAMPLE, "--until", "judge",
                       "--set", f"run_dir={tmp_path / kind}", "--set", f"engine.kind={kind}",
                       "--set", f"engine.address={address}", "--set", "engine.encode_min_texts=1"]
            done = subprocess.run(command, env=run_env, cwd=REPO, capture_output=True, text=True, timeout=600,
                                  check=False)
            assert done.returncode == 0, done.stderr[-3000:]
            stderr[kind] = done.stderr
    assert "texts encoded on 2 ray nodes" in stderr["ray"] and "ray node" not in stderr["local"]
    local = _vectors(tmp_path / "local-vectors.sqlite")
    assert len(local) > 100 and local == _vectors(tmp_path / "ray-vectors.sqlite")  # bit for bit
    for name in ("segments.jsonl", "quarantine.jsonl", "pairs.jsonl", "judged.jsonl"):
        assert records(tmp_path / "local" / name) == records(tmp_path / "ray" / name), name
