"""One sentence-vector store per machine: every text is encoded once, across stages and runs.

`synth ingest`, the judge, `synth check`, curate's dedup, the router and compare all read text
through synth.text.embeddings, which asks this store first. A vector is keyed by the hash of
the encoder's id, the token limit it was read to and the text; since one text per call makes a
vector a function of its text alone (synth.text.encoder), a stored vector equals a fresh one.

The store is one SQLite file in synth's cache dir (`$SYNTH_CACHE_DIR`, else
`$XDG_CACHE_HOME/synth`, else `~/.cache/synth`): `vectors.sqlite` (`$SYNTH_VECTOR_STORE` names
another file), in WAL mode with a busy
timeout, so two synth processes on one machine read and write it at the same time (each write
is one transaction of INSERT OR IGNORE: the same text written twice keeps one row). It has a
size cap, `$SYNTH_VECTOR_STORE_MB` (default 2048; 0 turns the store off): past it the least
recently used rows are deleted down to 90% of the cap (the row count is kept in a meta table,
in the write's own transaction, so a write never scans the store). A row read is marked used at most once
an hour, so reads seldom write.
"""
from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import numpy as np

from synth.errors import SynthError

DEFAULT_CAP_MB = 2048
ROW_OVERHEAD = 120  # bytes per row besides the vector: key, timestamp, b-tree (measured ~110)
TOUCH_AFTER_S = 3600
_BATCH = 500  # keys per SELECT (SQLite's variable limit is 32,766; smaller keeps statements quick)


def store_path() -> Path:
    """`$SYNTH_VECTOR_STORE` (a file), else vectors.sqlite in synth's cache dir."""
    from synth.text.encoder import cache_dir

    return Path(os.environ.get("SYNTH_VECTOR_STORE") or cache_dir() / "vectors.sqlite")


def cap_bytes(variable: str = "SYNTH_VECTOR_STORE_MB", default_mb: int = DEFAULT_CAP_MB) -> int:
    raw = os.environ.get(variable, str(default_mb))
    try:
        megabytes = float(raw)
    except ValueError:
        raise SynthError(f"{variable} must be a number of megabytes, not {raw!r}") from None
    return int(megabytes * 1024 * 1024)


class VectorStore:
    """Vectors by key (the caller's hash of encoder, token limit and text) in one SQLite file;
    get_blobs/put_blobs keep any bytes the same way (the screen results, synth.judge.screens)."""

    def __init__(self, path: Path, cap: int, name: str = "vector store"):
        self.path, self.cap, self.name = path, cap, name
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    def _db(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        try:  # a forked child opens its own connection
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL, "
                         "used INTEGER NOT NULL) WITHOUT ROWID")
            conn.execute("CREATE INDEX IF NOT EXISTS vectors_used ON vectors(used)")
            conn.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('rows', (SELECT COUNT(*) FROM vectors))")
        except sqlite3.DatabaseError as exc:
            raise SynthError(f"the {self.name} {self.path} cannot be opened ({exc}): delete it and synth "
                             "encodes again, or set SYNTH_CACHE_DIR to a writable folder") from None
        except OSError as exc:
            raise SynthError(f"cannot write the {self.name} in {self.path.parent}: {exc} "
                             "(set SYNTH_CACHE_DIR to a writable folder)") from None
        self._conn, self._pid = conn, os.getpid()
        return conn

    def get(self, keys: list[str], dimensions: int) -> dict[str, np.ndarray]:
        """The stored vectors among `keys` (float32, `dimensions` long); marks them used."""
        found = {k: np.frombuffer(blob, dtype=np.float32) for k, blob in self.get_blobs(keys).items()}
        return {k: v for k, v in found.items() if len(v) == dimensions}  # another width is never mixed in

    def get_blobs(self, keys: list[str]) -> dict[str, bytes]:
        """The stored values among `keys` as bytes; marks them used (at most once an hour)."""
        found: dict[str, bytes] = {}
        stale: list[str] = []
        old = int(time.time()) - TOUCH_AFTER_S
        db = self._db()
        for start in range(0, len(keys), _BATCH):
            chunk = keys[start:start + _BATCH]
            marks = ",".join("?" * len(chunk))
            for key, blob, used in db.execute(f"SELECT key, vec, used FROM vectors WHERE key IN ({marks})", chunk):
                found[key] = blob
                if used < old:
                    stale.append(key)
        if stale:
            now = int(time.time())
            db.executemany("UPDATE vectors SET used = ? WHERE key = ?", [(now, k) for k in stale])
        return found

    def put(self, vectors: dict[str, np.ndarray]) -> None:
        """Store `vectors` (one transaction), then evict the least recently used past the cap."""
        self.put_blobs({k: np.ascontiguousarray(v, dtype=np.float32).tobytes() for k, v in vectors.items()})

    def put_blobs(self, values: dict[str, bytes]) -> None:
        """Store `values` by key (one transaction; a key already there keeps its value), then
        evict the least recently used past the cap."""
        if not values:
            return
        now = int(time.time())
        rows = [(k, blob, now) for k, blob in values.items()]
        db = self._db()
        most = self.cap // (sum(len(blob) for _, blob, _ in rows) // len(rows) + ROW_OVERHEAD)
        db.execute("BEGIN IMMEDIATE")  # the row count lives in meta, kept in the same transaction
        try:
            before = db.total_changes
            db.executemany("INSERT OR IGNORE INTO vectors (key, vec, used) VALUES (?, ?, ?)", rows)
            db.execute("UPDATE meta SET value = value + ? WHERE name = 'rows'", (db.total_changes - before,))
            (count,) = db.execute("SELECT value FROM meta WHERE name = 'rows'").fetchone()
            if count > most:  # past the cap: the least recently used go, down to 90% of it
                excess = count - int(most * 0.9)
                db.execute("DELETE FROM vectors WHERE key IN (SELECT key FROM vectors ORDER BY used LIMIT ?)",
                           (excess,))
                db.execute("UPDATE meta SET value = (SELECT COUNT(*) FROM vectors) WHERE name = 'rows'")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def __len__(self) -> int:
        return int(self._db().execute("SELECT value FROM meta WHERE name = 'rows'").fetchone()[0])


_STORES: dict[tuple[Path, int], VectorStore] = {}


def machine_store() -> VectorStore | None:
    """This machine's store (None when SYNTH_VECTOR_STORE_MB is 0)."""
    cap = cap_bytes()
    if cap <= 0:
        return None
    key = (store_path(), cap)
    if key not in _STORES:
        _STORES[key] = VectorStore(*key)
    return _STORES[key]
