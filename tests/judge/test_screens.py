"""The machine's screen store: each distinct answer is screened once, across pairs and runs, and a
stored screen gives the same checks as a fresh one; another screen (config) reads again."""
from __future__ import annotations

import pytest

from synth.config import ChecksConfig, SafetyConfig
from synth.judge import checks, safety, screens
from synth.judge.checks import run_checks
from synth.judge.safety import SafetyPolicy
from synth.text import embeddings

# written for this test
ANSWERS = [
    "Take two 50 mg tablets every morning and double it if the low mood comes back next week. "
    "You can skip the follow-up visit if you feel fine by then.",
    "When the evenings feel empty, plan one small thing you look forward to after dinner, even a "
    "short walk with a neighbour, and write down how it went before you sleep.",
    "Noticing that you freeze when your manager raises their voice is useful information about "
    "what you learned to do long ago; it is not a flaw you need to hide from anyone.",
]
QUESTIONS = ["How much of my medication should I take?", "What can I do with lonely evenings?",
             "Why do I freeze when someone shouts at work?"]
ITEMS = [(q, a) for a in ANSWERS for q in QUESTIONS]  # each answer with three questions
ANSWER_SIDE = safety.answer_side  # memoised in the process


@pytest.fixture
def stores(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNTH_SCREEN_STORE", str(tmp_path / "screens.sqlite"))
    monkeypatch.setenv("SYNTH_VECTOR_STORE", str(tmp_path / "vectors.sqlite"))
    monkeypatch.setattr(screens, "_STORES", {})
    ANSWER_SIDE.cache_clear()
    yield tmp_path
    ANSWER_SIDE.cache_clear()


def _as_dicts(result: list[checks.PairChecks]) -> list[list[dict]]:
    return [[r.model_dump() for r in pair.results] for pair in result]


def test_each_answer_is_screened_once_and_a_rerun_reads_none(stores, monkeypatch) -> None:
    policy = SafetyPolicy.from_config(SafetyConfig())
    read = []
    monkeypatch.setattr(safety, "answer_side", lambda a, extra: read.append(a) or ANSWER_SIDE(a, extra))
    first = run_checks(ITEMS, ChecksConfig(), policy)
    assert sorted(read) == sorted(ANSWERS)  # once per answer, not once per pair
    assert any(f.rule == "dosage" or f.rule == "medication_directive" for f in first[0].screen.findings)
    store = screens.machine_screens(policy.config)
    assert store is not None and set(store.get(ANSWERS)) == set(ANSWERS)

    read.clear()
    ANSWER_SIDE.cache_clear()  # a new process: nothing in memory

    def never(answer: str) -> list[str]:
        raise AssertionError(f"answer re-read: {answer[:40]}")
    monkeypatch.setattr(checks, "advice_passages", never)
    before = dict(embeddings.COUNTS)
    again = run_checks(ITEMS, ChecksConfig(), policy)
    assert read == []
    assert embeddings.COUNTS["encoded"] == before["encoded"]
    assert _as_dicts(again) == _as_dicts(first)
    assert [p.screen for p in again] == [p.screen for p in first]


def test_another_screen_reads_the_answers_again(stores) -> None:
    policy = SafetyPolicy.from_config(SafetyConfig())
    run_checks(ITEMS[:3], ChecksConfig(), policy)
    stricter = SafetyPolicy.from_config(SafetyConfig(advice_min_probability=0.99))
    assert screens.screen_fingerprint(stricter.config) != screens.screen_fingerprint(policy.config)
    store = screens.machine_screens(stricter.config)
    assert store is not None and store.get([ANSWERS[0]]) == {}
    run_checks(ITEMS[:3], ChecksConfig(), stricter)
    assert set(store.get([ANSWERS[0]])) == {ANSWERS[0]}


def test_the_store_can_be_turned_off(stores, monkeypatch) -> None:
    monkeypatch.setenv("SYNTH_SCREEN_STORE_MB", "0")
    policy = SafetyPolicy.from_config(SafetyConfig())
    assert screens.machine_screens(policy.config) is None
    assert len(run_checks(ITEMS[:2], ChecksConfig(), policy)) == 2
    assert not (stores / "screens.sqlite").exists()
