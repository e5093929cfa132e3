"""PII redaction of many texts at once: a store of results per machine and a process pool.

Redaction (synth.ingest.pii) is a pure function of the text, the rules (pii.py, names.py) and
the pinned NER model, so its result is kept per distinct text in one SQLite file in synth's cache
dir (`redactions.sqlite`; `$SYNTH_REDACTION_STORE_MB`, default 1024, caps it and 0 turns it
off), keyed by the sha256 of RULES and the text. A rerun redacts nothing. The store holds only
the redacted text and its counts, never the original: personal data does not reach the cache.

Texts the store lacks are redacted in a process pool sized to the cores (`ingest.workers`, 0 =
one per core) when a file has at least POOL_MIN of them, else in this process; the pool starts
once and serves every file of the ingest (close_pool() ends it). Every process runs
the same function on slices of the texts (redact_texts); spaCy's NER reads each document alone
(ragged arrays, no padding), so the results equal the single-process path's (a test checks it).
With `engine.kind: ray` (inside synth.text.ray_map.on_cluster), `engine.cluster_min_texts` or more
such texts go to the cluster instead: the same slices through Ray Data map_batches (RedactBatch,
one NER per actor; a node whose rules or model differ from the driver's stops the run).
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import synth.ingest.names as names
import synth.ingest.nermodel as nermodel
import synth.ingest.pii as pii
from synth.errors import SynthError
from synth.text.ray_map import cluster_for, map_texts, node_id

if TYPE_CHECKING:
    from synth.llmconfig import EngineConfig

POOL_MIN = 400  # texts to redact before a pool pays for its workers' NER load (~3 CPU-s each)
CHUNK = 64  # texts per pool task (one nlp.pipe batch)
DEFAULT_CAP_MB = 1024
Result = tuple[str, dict[str, int]]


@lru_cache(maxsize=1)
def rules() -> str:
    """The version of redaction: the rule sources, the NER model and Presidio's version."""
    digest = hashlib.sha256()
    for module in (pii, names, nermodel):
        digest.update(Path(module.__file__ or "").read_bytes())
    model = pii.spacy_model() or "no NER"
    digest.update(f"{model}|{pii.presidio_version()}".encode())
    return digest.hexdigest()[:16]


def _key(text: str) -> str:
    return hashlib.sha256(f"{rules()}\x1f{text}".encode("utf-8", "surrogatepass")).hexdigest()


class RedactionStore:
    """Redaction results by key in one SQLite file (WAL, safe for two processes), LRU-capped."""

    def __init__(self, path: Path, cap: int):
        self.path, self.cap = path, cap
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    def _db(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS redactions (key TEXT PRIMARY KEY, text TEXT NOT NULL, "
                         "counts TEXT NOT NULL, used INTEGER NOT NULL) WITHOUT ROWID")
            conn.execute("CREATE INDEX IF NOT EXISTS redactions_used ON redactions(used)")
        except (sqlite3.DatabaseError, OSError) as exc:
            raise SynthError(f"the redaction store {self.path} cannot be opened ({exc}): delete it, or set "
                             "SYNTH_CACHE_DIR to a writable folder") from None
        self._conn, self._pid = conn, os.getpid()
        return conn

    def get(self, keys: list[str]) -> dict[str, Result]:
        import json

        found: dict[str, Result] = {}
        db = self._db()
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            rows = db.execute(f"SELECT key, text, counts FROM redactions WHERE key IN ({','.join('?' * len(chunk))})",
                              chunk)
            found.update((key, (text, json.loads(counts))) for key, text, counts in rows)
        return found

    def put(self, results: dict[str, Result]) -> None:
        import json

        if not results:
            return
        now = int(time.time())
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT OR REPLACE INTO redactions VALUES (?, ?, ?, ?)",
                           [(k, text, json.dumps(counts), now) for k, (text, counts) in results.items()])
            (size,) = db.execute("SELECT COALESCE(SUM(LENGTH(text)), 0) + 200 * COUNT(*) FROM redactions").fetchone()
            if size > self.cap:  # past the cap: the least recently written go, down to 90% of it
                (rows,) = db.execute("SELECT COUNT(*) FROM redactions").fetchone()
                excess = rows - int(rows * 0.9 * self.cap / size)
                db.execute("DELETE FROM redactions WHERE key IN (SELECT key FROM redactions ORDER BY used LIMIT ?)",
                           (excess,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


def machine_store() -> RedactionStore | None:
    from synth.text.encoder import cache_dir

    raw = os.environ.get("SYNTH_REDACTION_STORE_MB", str(DEFAULT_CAP_MB))
    try:
        cap = int(float(raw) * 1024 * 1024)
    except ValueError:
        raise SynthError(f"SYNTH_REDACTION_STORE_MB must be a number of megabytes, not {raw!r}") from None
    return RedactionStore(cache_dir() / "redactions.sqlite", cap) if cap > 0 else None


def redact_texts(texts: Sequence[str]) -> list[Result]:
    """redact() of each text in this process, the NER batched (nlp.pipe) over them."""
    with pii.prepared(texts):
        return [pii.redact(text) for text in texts]


def _warm() -> None:
    import logging

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    pii.analyzer()


def workers(configured: int = 0) -> int:
    return configured or len(os.sched_getaffinity(0))


_POOLS: dict[int, object] = {}  # processes -> a spawn Pool, kept across files until close_pool()


def _pool(count: int):
    """A pool of `count` processes with the NER loaded, started once per ingest (close_pool)."""
    if count not in _POOLS:
        import atexit
        import multiprocessing

        _POOLS[count] = multiprocessing.get_context("spawn").Pool(count, initializer=_warm)
        atexit.register(close_pool)
    return _POOLS[count]


def close_pool() -> None:
    """Stop the pool's processes (ingest does, when its files are read)."""
    while _POOLS:
        _, pool = _POOLS.popitem()
        pool.close()  # type: ignore[attr-defined]
        pool.join()  # type: ignore[attr-defined]


def redact_many(texts: Sequence[str], processes: int = 0) -> tuple[dict[str, Result], int]:
    """The redaction of every distinct text (store first, then a pool or this process), and how
    many were redacted now (0 on a rerun)."""
    distinct = list(dict.fromkeys(texts))
    store = machine_store()
    keys = {text: _key(text) for text in distinct} if store else {}
    stored = store.get(list(keys.values())) if store else {}
    done = {text: stored[keys[text]] for text in distinct if store and keys[text] in stored}
    todo = [text for text in distinct if text not in done]
    count = workers(processes)
    engine = cluster_for(len(todo))  # engine.kind ray, inside ray_map.on_cluster: on the cluster
    if engine is not None:
        fresh = redact_on_cluster(todo, engine)
    elif len(todo) >= POOL_MIN and count > 1:
        slices = [todo[i:i + CHUNK] for i in range(0, len(todo), CHUNK)]
        fresh = [r for part in _pool(count).imap(redact_texts, slices) for r in part]
    else:
        fresh = redact_texts(todo)
    done.update(zip(todo, fresh))
    if store:
        store.put({keys[text]: result for text, result in zip(todo, fresh)})
    return done, len(todo)


class RedactBatch:
    """The Ray Data UDF of redact_on_cluster: the NER loaded once per actor, a batch redacted as
    one slice of the pool is (redact_texts)."""

    def __init__(self, version: str):
        self.node = node_id()
        if rules() != version:
            raise SynthError(f"PII redaction on ray node {self.node} is version {rules()}, the driver's {version} "
                             "(rules, NER model or Presidio differ): install the same synth and model on every node")
        _warm()

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import json

        import numpy as np

        results = redact_texts([str(t) for t in batch["text"]])
        return {"index": batch["index"], "value": np.array([json.dumps(r) for r in results]),
                "node": np.array([self.node] * len(results))}


def redact_on_cluster(texts: list[str], engine: EngineConfig) -> list[Result]:
    """redact() of each text, by Ray Data map_batches on the cluster of `engine` (synth.text.ray_map):
    the same results as the pool's, in order."""
    import json

    values = map_texts(texts, RedactBatch, {"version": rules()}, engine, batch=CHUNK, what="texts PII-redacted")
    return [(text, counts) for text, counts in (json.loads(str(v)) for v in values)]


@contextmanager
def redacted(texts: Sequence[str], processes: int = 0) -> Iterator[int]:
    """Inside the block pii.redact() answers each of `texts` from redact_many's results (the
    texts that might hold PII) or as unchanged (the rest, which clean.redact_pii leaves as they
    are); yields how many were redacted now."""
    distinct = [t for t in dict.fromkeys(texts) if t]
    todo = [t for t in distinct if pii.might_have_pii(t)] if pii.available() else []
    results, fresh = redact_many(todo, processes) if todo else ({}, 0)
    pii.DONE.update(results)
    if pii.available():  # the prefilter is not asked twice
        pii.DONE.update((t, (t, {})) for t in distinct if t not in results)
    try:
        yield fresh
    finally:
        pii.DONE.clear()
