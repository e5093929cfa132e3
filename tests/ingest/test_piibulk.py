"""PII redaction of many texts (synth.ingest.piibulk): a process pool gives what this process
gives, one text at a time; a rerun redacts nothing; the store keeps no personal data; the
prefilter skips sentence openers that cannot end up redacted."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml

from synth.ingest import pii, piibulk

pytestmark = pytest.mark.skipif(not pii.available(), reason="screen extra not installed")

HELDOUT = Path(__file__).resolve().parents[2] / "bench" / "data" / "pii_heldout.yaml"


def _texts() -> tuple[list[str], list[str]]:
    """The planted set's texts and the strings that must disappear from them."""
    data = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))
    texts = [text for cases in data["redact"].values() for text, _ in cases]
    planted = [value for cases in data["redact"].values() for _, values in cases for value in values]
    texts += [text for group in data["keep"].values() for text in group]
    body = "When you grow up keeping the peace, saying no feels dangerous."
    return texts + [f"{body} {t}" for t in texts], planted


def test_a_pool_gives_what_one_process_gives_one_text_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTH_REDACTION_STORE_MB", "0")
    monkeypatch.setattr(piibulk, "POOL_MIN", 1)
    monkeypatch.setattr(piibulk, "CHUNK", 7)  # slices that cut across the kinds of text
    texts, _ = _texts()
    one_by_one = {text: pii.redact(text) for text in texts}
    try:
        pooled, fresh = piibulk.redact_many(texts, processes=2)
    finally:
        piibulk.close_pool()
    assert piibulk._POOLS == {}
    assert fresh == len(set(texts))
    assert pooled == one_by_one
    in_process, _ = piibulk.redact_many(texts, processes=1)
    assert in_process == one_by_one


def test_a_rerun_redacts_nothing_and_the_store_keeps_no_personal_data(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTH_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("SYNTH_REDACTION_STORE_MB", raising=False)
    texts, _ = _texts()
    with piibulk.redacted(texts, processes=1) as fresh:
        first = [pii.redact(t) for t in texts]
    assert fresh == len([t for t in set(texts) if pii.might_have_pii(t)]) > 0
    assert pii.DONE == {}
    with piibulk.redacted(texts, processes=1) as fresh:
        assert fresh == 0
        assert [pii.redact(t) for t in texts] == first
    rows = sqlite3.connect(tmp_path / "redactions.sqlite").execute("SELECT key, text FROM redactions").fetchall()
    assert rows and all(t not in {key for key, _ in rows} for t in texts)
    assert {text for _, text in rows} <= {redacted for redacted, _ in first}  # redacted text only
    assert any("[NAME]" in text for _, text in rows)


def test_the_store_is_capped(tmp_path: Path) -> None:
    store = piibulk.RedactionStore(tmp_path / "r.sqlite", cap=20_000)
    for batch in range(10):
        store.put({f"{batch}-{i}": ("x" * 100, {}) for i in range(20)})
    (rows,) = store._db().execute("SELECT COUNT(*) FROM redactions").fetchone()
    assert rows * 300 <= 20_000 and rows > 0
    assert store.get(["9-19"]) == {"9-19": ("x" * 100, {})}


@pytest.mark.parametrize(("text", "candidate"), [
    ("In the end it passed. So we waited.", False),  # function words open the sentences
    ("Hope is not a plan. Will power fades.", False),  # names.keep_as_word keeps these anyway
    ("Deirdre called again about the rota.", True),  # a census first name opens it
    ("I think the worst is over.", False),
    ("Then the group met on Thursday.", True),  # a capital inside the sentence
])
def test_the_prefilter(text: str, candidate: bool) -> None:
    assert pii.might_have_pii(text) is candidate


def test_quarantine_excerpts_are_redacted_in_the_pool_and_the_pool_is_closed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from synth.config import IngestConfig
    from synth.experts import load_experts
    from synth.ingest.stage import ingest_paths

    monkeypatch.setenv("SYNTH_REDACTION_STORE_MB", "0")
    monkeypatch.setattr(piibulk, "POOL_MIN", 1)
    body = "When you grow up keeping the peace, saying no feels dangerous and you learn to read the room."
    segments = [{"text": f"{body} Write to dana.whitfield{i}@example.com any time.", "confidence": 0.1}
                for i in range(3)]
    path = tmp_path / "low.json"
    path.write_text(json.dumps({"style": "therapeutic", "segments": segments}), encoding="utf-8")
    experts = load_experts(Path(__file__).resolve().parents[2] / "configs" / "experts.yaml")
    result = ingest_paths([str(path)], experts, ingest_cfg=IngestConfig(workers=2))
    assert piibulk._POOLS == {}
    assert len(result.quarantined) == 3 and not result.segments
    assert all("[EMAIL]" in (q.raw or "") and "dana.whitfield" not in (q.raw or "") for q in result.quarantined)


def test_the_audit_closes_the_pool_its_examples_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit redacts the schema examples in one batch; a pool started for them is closed,
    not left running through the later stages of `synth run`."""
    import json

    from synth.experts import load_experts
    from synth.ingest.audit import write_audit
    from synth.ingest.stage import ingest_paths

    monkeypatch.setenv("SYNTH_REDACTION_STORE_MB", "0")
    body = "When you grow up keeping the peace, saying no feels dangerous and you learn to read the room."
    path = tmp_path / "talk.json"
    path.write_text(json.dumps({"style": "therapeutic", "segments": [
        {"text": f"Write to dana.whitfield@example.com any time. {body}", "confidence": 0.9}]}), encoding="utf-8")
    experts = load_experts(Path(__file__).resolve().parents[2] / "configs" / "experts.yaml")
    result = ingest_paths([str(path)], experts)
    monkeypatch.setattr(piibulk, "POOL_MIN", 1)
    started: list[int] = []
    real_pool = piibulk._pool
    monkeypatch.setattr(piibulk, "_pool", lambda processes: started.append(processes) or real_pool(processes))
    write_audit(result, tmp_path / "audit", experts=experts)
    assert started and piibulk._POOLS == {}
    assert "dana.whitfield" not in (tmp_path / "audit" / "audit.json").read_text(encoding="utf-8")
