"""Each distinct answer screened once per machine: its answer-side safety screen kept across runs.

The answer side of the safety screen (its rule findings, crisis readings and resources,
synth.judge.safety.answer_side) and its unsafe-advice findings (its sentences embedded and
scored against the bank, synth.judge.advice) are functions of the answer's text and of the
screen: the safety config, the advice bank and scorer, the encoder and the screen's own code.
`screen_fingerprint` hashes all of these; a result is stored under the hash of the fingerprint
and the text, so a change to any of them reads every answer again, and a second `synth check`
of the same file (or a judge re-run) reads no answer twice and encodes none of its sentences.

The store is `screens.sqlite` in synth's cache dir (`$SYNTH_SCREEN_STORE` names another file),
kept like the vector store (synth.text.vectors: SQLite WAL, safe under concurrent writers, least
recently used rows evicted past `$SYNTH_SCREEN_STORE_MB`, default 256; 0 turns it off).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from synth.config import SafetyConfig
from synth.hashing import content_hash, file_hash
from synth.judge.safety import AnswerSide, Finding

DEFAULT_CAP_MB = 256
# the code that decides an answer's screen: a change to any of it makes every stored result stale
SCREEN_CODE = ("judge/safety.py", "judge/medication.py", "judge/advice.py", "judge/vectors.py",
               "text/crisis.py", "text/sentences.py", "text/encoder.py")
_SYNTH = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class AnswerScreen:
    """One answer's side of the safety screen and its unsafe-advice findings."""

    side: AnswerSide
    advice: tuple[Finding, ...] = ()


def screen_fingerprint(config: SafetyConfig) -> str:
    """The screen's identity: safety config, advice bank (exemplars and scorer), encoder and its
    runtime and token limit, and the screen's code (the offline judge's name carries it too)."""
    from synth.judge.vectors import MAX_TOKENS
    from synth.text import embeddings

    encoder = f"{embeddings.runtime_id()}@{MAX_TOKENS}" if embeddings.available() else "no encoder"
    return _fingerprint(config.model_dump_json(), encoder)


@lru_cache(maxsize=8)
def _fingerprint(config_json: str, encoder: str) -> str:
    from synth.judge.advice import bank_path
    from synth.text.encoder import EXPORT_RECIPE

    bank = bank_path(SafetyConfig.model_validate_json(config_json).advice_bank)
    parts = [encoder, EXPORT_RECIPE, config_json, file_hash(bank) if bank.exists() else "no bank",
             *(file_hash(_SYNTH / name) for name in SCREEN_CODE)]
    return content_hash("\x1f".join(parts))


class ScreenStore:
    """AnswerScreen by answer text under one fingerprint, in a machine's store."""

    def __init__(self, path: Path, cap: int, fingerprint: str):
        from synth.text.vectors import VectorStore

        self.fingerprint = fingerprint
        self.store = VectorStore(path, cap, name="screen store")

    def key(self, answer: str) -> str:
        return content_hash(f"{self.fingerprint}\x1f{answer}")

    def get(self, answers: list[str]) -> dict[str, AnswerScreen]:
        keys = {a: self.key(a) for a in answers}
        blobs = self.store.get_blobs(list(set(keys.values())))
        return {a: _decode(blobs[k]) for a, k in keys.items() if k in blobs}

    def put(self, screens: dict[str, AnswerScreen]) -> None:
        self.store.put_blobs({self.key(a): _encode(s) for a, s in screens.items()})


def machine_screens(config: SafetyConfig) -> ScreenStore | None:
    """This machine's screen store for `config`'s screen (None when SYNTH_SCREEN_STORE_MB is 0)."""
    from synth.text.encoder import cache_dir
    from synth.text.vectors import cap_bytes

    cap = cap_bytes("SYNTH_SCREEN_STORE_MB", DEFAULT_CAP_MB)
    if cap <= 0:
        return None
    key = (Path(os.environ.get("SYNTH_SCREEN_STORE") or cache_dir() / "screens.sqlite"), cap,
           screen_fingerprint(config))
    if key not in _STORES:
        _STORES[key] = ScreenStore(*key)
    return _STORES[key]


_STORES: dict[tuple[Path, int, str], ScreenStore] = {}


def _encode(screen: AnswerScreen) -> bytes:
    findings, readings, resources = screen.side
    return json.dumps({"findings": [_finding(f) for f in findings], "readings": readings,
                       "resources": resources, "advice": [_finding(f) for f in screen.advice]},
                      ensure_ascii=False).encode("utf-8")


def _finding(finding: Finding) -> list[str]:
    return [finding.rule, finding.kind, finding.where, finding.quote]


def _decode(blob: bytes) -> AnswerScreen:
    data = json.loads(blob)
    side = (tuple(Finding(*f) for f in data["findings"]), tuple((s, r) for s, r in data["readings"]),
            bool(data["resources"]))
    return AnswerScreen(side, tuple(Finding(*f) for f in data["advice"]))
