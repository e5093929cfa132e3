"""The machine's vector store: a text is encoded once across stages and runs, two processes
write it at once, it keeps to its cap, and a damaged file says what to do."""
from __future__ import annotations

import multiprocessing

import numpy as np
import pytest

from synth.errors import SynthError
from synth.text import embeddings, vectors

TEXTS = ["I keep waking up at 3am with my heart racing.", "Name the feeling before you answer.",
         "Grief changes over the months after a loss.", "I keep waking up at 3am with my heart racing."]


@pytest.fixture
def store_at(tmp_path, monkeypatch):
    path = tmp_path / "vectors.sqlite"
    monkeypatch.setattr(vectors, "store_path", lambda: path)
    monkeypatch.setattr(vectors, "_STORES", {})
    return path


@pytest.mark.skipif(not embeddings.available(), reason="embed extra not installed")
def test_a_second_read_of_the_same_texts_encodes_nothing(store_at) -> None:
    before = dict(embeddings.COUNTS)
    first = embeddings.embed(TEXTS)
    assert embeddings.encode_summary(before) == {"texts_encoded": 3, "vectors_from_store": 0}
    middle = dict(embeddings.COUNTS)
    again = embeddings.embed(TEXTS[::-1])[::-1]
    assert embeddings.encode_summary(middle) == {"texts_encoded": 0, "vectors_from_store": 3}
    assert np.array_equal(first, again)  # a stored vector is the fresh one, bit for bit
    shorter = dict(embeddings.COUNTS)
    embeddings.embed(TEXTS[:1], max_tokens=4)  # another token limit is another vector
    assert embeddings.encode_summary(shorter)["texts_encoded"] == 1


def _write(path: str, offset: int, n: int) -> None:
    store = vectors.VectorStore(vectors.Path(path), 1 << 30)
    for start in range(offset, offset + n, 25):  # many small transactions, interleaved with the other writer
        store.put({f"k{i}": np.full(8, i, dtype=np.float32) for i in range(start, start + 25)})


def test_two_processes_write_the_store_at_once(store_at) -> None:
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write, args=(str(store_at), offset, 1000)) for offset in (0, 500)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    store = vectors.VectorStore(store_at, 1 << 30)
    assert len(store) == 1500  # the 500 texts both wrote are stored once
    found = store.get([f"k{i}" for i in range(1500)], 8)
    assert all(found[f"k{i}"][0] == i for i in range(1500))


def test_past_its_cap_the_least_recently_used_go(store_at) -> None:
    row = 8 * 4 + vectors.ROW_OVERHEAD
    store = vectors.VectorStore(store_at, 100 * row)
    store.put({f"old{i}": np.ones(8, dtype=np.float32) for i in range(60)})
    with store._db() as db:
        db.execute("UPDATE vectors SET used = used - 10")
    store.put({f"new{i}": np.ones(8, dtype=np.float32) for i in range(60)})
    assert len(store) <= 100
    kept = store.get([f"new{i}" for i in range(60)] + [f"old{i}" for i in range(60)], 8)
    assert all(f"new{i}" in kept for i in range(60))
    assert len(kept) == len(store)


def test_a_vector_of_another_width_is_not_returned(store_at) -> None:
    store = vectors.VectorStore(store_at, 1 << 20)
    store.put({"k": np.ones(8, dtype=np.float32)})
    assert store.get(["k"], 384) == {}


def test_a_damaged_store_names_the_file_and_the_fix(store_at) -> None:
    store_at.write_bytes(b"this is not a database" * 100)
    with pytest.raises(SynthError, match="delete it") as caught:
        vectors.VectorStore(store_at, 1 << 20).get(["k"], 8)
    assert str(store_at) in str(caught.value)


def test_a_cap_of_zero_turns_the_store_off(store_at, monkeypatch) -> None:
    monkeypatch.setenv("SYNTH_VECTOR_STORE_MB", "0")
    assert vectors.machine_store() is None
    monkeypatch.setenv("SYNTH_VECTOR_STORE_MB", "lots")
    with pytest.raises(SynthError, match="SYNTH_VECTOR_STORE_MB"):
        vectors.machine_store()


@pytest.mark.skipif(not embeddings.available(), reason="embed extra not installed")
def test_a_rerun_of_ingest_and_of_the_checks_encodes_nothing(store_at) -> None:
    from pathlib import Path

    from synth.config import ChecksConfig, SafetyConfig
    from synth.experts import load_experts
    from synth.ingest.stage import ingest_paths
    from synth.judge.checks import run_checks
    from synth.judge.safety import SafetyPolicy

    root = Path(__file__).resolve().parents[2]
    experts = load_experts(root / "configs/experts.yaml")
    runs = []
    for _ in range(2):
        before = dict(embeddings.COUNTS)
        result = ingest_paths([str(root / "examples/corpus")], experts)
        runs.append((embeddings.encode_summary(before), [s.flags for s in result.segments]))
    assert result.off_topic.method == "corpus"
    assert runs[0][0]["texts_encoded"] > 20 and runs[1][0]["texts_encoded"] == 0
    assert runs[0][1] == runs[1][1]  # the same decisions from stored vectors
    items = [(f"What helps when {s.text.split('.')[0].lower()}?", s.text) for s in result.segments[:6]]
    policy = SafetyPolicy.from_config(SafetyConfig())
    checked = []
    for _ in range(2):
        before = dict(embeddings.COUNTS)
        checks = run_checks(items, ChecksConfig(), policy)
        checked.append((embeddings.encode_summary(before), [[(r.name, r.score) for r in c.results] for c in checks]))
    assert checked[0][0]["texts_encoded"] > 0 and checked[1][0]["texts_encoded"] == 0
    assert checked[0][1] == checked[1][1]
