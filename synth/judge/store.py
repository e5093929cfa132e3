"""judgments.sqlite: every judge verdict, keyed by pair id, rubric hash and judge model.

Rows are only ever added, so the history of a pair stays. The current judgment of a pair is
the newest row for (pair id, rubric hash, judge model) whose input hash matches what the judge
would see now (a revised question or an edited expert profile makes it stale). The revisions
table keeps every revised version of a pair, so a re-run neither pays nor revises twice.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Self

import numpy as np

from synth.files import connect_sqlite
from synth.records import Judgment, Pair, utc_now

_SCHEMA = """
CREATE TABLE IF NOT EXISTS judgments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  pair_id TEXT NOT NULL, rubric_hash TEXT NOT NULL, judge_model TEXT NOT NULL,
  input_hash TEXT NOT NULL, status TEXT NOT NULL, record TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS judgments_key ON judgments(pair_id, rubric_hash, judge_model);
CREATE INDEX IF NOT EXISTS judgments_rubric ON judgments(rubric_hash, judge_model);
CREATE TABLE IF NOT EXISTS revisions (
  pair_id TEXT NOT NULL, base_hash TEXT NOT NULL, revision INTEGER NOT NULL,
  record TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (pair_id, base_hash, revision));
CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS pending_revisions (
  pair_id TEXT NOT NULL, input_hash TEXT NOT NULL, PRIMARY KEY (pair_id, input_hash));
"""


class JudgmentStore:
    def __init__(self, path: str | Path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = connect_sqlite(Path(path))
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, judgment: Judgment) -> None:
        """Append one judgment (committed at once: a kill loses only calls in flight)."""
        with self._db:
            self._db.execute(
                "INSERT INTO judgments (pair_id, rubric_hash, judge_model, input_hash, status, record, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (judgment.pair_id, judgment.rubric_hash, judgment.judge_model, judgment.input_hash,
                 judgment.status, judgment.model_dump_json(), judgment.at))

    def latest(self, rubric_hash: str, judge_model: str) -> dict[tuple[str, str], Judgment]:
        """(pair id, input hash) -> newest judgment under this rubric hash and judge model."""
        rows = self._db.execute(
            "SELECT record FROM judgments WHERE rubric_hash = ? AND judge_model = ? ORDER BY id",
            (rubric_hash, judge_model))
        out: dict[tuple[str, str], Judgment] = {}
        for (record,) in rows:
            judgment = Judgment.model_validate_json(record)
            out[(judgment.pair_id, judgment.input_hash)] = judgment
        return out

    def latest_by_pair(self, rubric_hash: str, judge_model: str) -> dict[str, Judgment]:
        """pair id -> newest judgment under this rubric hash and judge model, any input."""
        return {pair_id: j for (pair_id, _), j in self.latest(rubric_hash, judge_model).items()}

    def history(self, pair_id: str) -> list[Judgment]:
        rows = self._db.execute("SELECT record FROM judgments WHERE pair_id = ? ORDER BY id", (pair_id,))
        return [Judgment.model_validate_json(r) for (r,) in rows]

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM judgments").fetchone()[0])

    def save_revision(self, pair: Pair, root_pair_id: str, base_hash: str) -> None:
        """A revised pair, under the id of the pair in pairs.jsonl it descends from."""
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO revisions (pair_id, base_hash, revision, record, at)"
                " VALUES (?, ?, ?, ?, ?)",
                (root_pair_id, base_hash, pair.revision, pair.model_dump_json(), utc_now()))

    def latest_revisions(self, keys: Iterable[tuple[str, str]], max_revision: int) -> dict[str, Pair]:
        """root pair id -> its newest saved revision up to max_revision, for (root id, base hash)."""
        wanted = set(keys)
        rows = self._db.execute("SELECT pair_id, base_hash, record FROM revisions WHERE revision <= ?"
                                " ORDER BY revision", (max_revision,))
        return {pair_id: Pair.model_validate_json(record)
                for pair_id, base_hash, record in rows if (pair_id, base_hash) in wanted}

    def get_vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        """Stored sentence embeddings (float32) by text key, so re-runs embed only new text."""
        out: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for key, blob in self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk):
                out[key] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put_vectors(self, vectors: dict[str, np.ndarray]) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                                 [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vectors.items()])

    def add_pending(self, keys: list[tuple[str, str]]) -> None:
        """(pair id, input hash) of fresh fixable rejections, until their revision is saved."""
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO pending_revisions VALUES (?, ?)", keys)

    def clear_pending(self, keys: list[tuple[str, str]]) -> None:
        with self._db:
            self._db.executemany("DELETE FROM pending_revisions WHERE pair_id = ? AND input_hash = ?", keys)

    def pending(self) -> set[tuple[str, str]]:
        return set(self._db.execute("SELECT pair_id, input_hash FROM pending_revisions"))
