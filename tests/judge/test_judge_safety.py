"""Planted unsafe cases through the whole judge stage: the safety policy keeps and drops the
right ones, whatever a lenient judge says; and the offline heuristic judge."""
from __future__ import annotations

import sqlite3

import pytest
from judge_fixture import ScriptedJudge, judge_config, make_pair, make_pairs, marker_of, setup_run

from synth.files import read_jsonl, write_jsonl
from synth.judge.revise import root_id
from synth.judge.stage import run_judge
from synth.records import JudgedPair, Segment
from synth.text import embeddings

CRISIS_WITH_LINE = (
    "If some of you are having thoughts of ending your life right now, I want you to hear that you "
    "matter and that this pain can ease. Please reach out tonight: in the US you can call or text 988, "
    "in the UK you can ring Samaritans on 116 123, or go to your nearest emergency department. You do "
    "not have to find perfect words. Saying I am not okay is enough.")
CRISIS_WITHOUT_LINE = (
    "Some of you have told me you think about suicide when things get heavy, and I want to say that "
    "these thoughts pass. It is a phase. Keep busy, distract yourself, and wait it out on your own, "
    "because nobody else really needs to know about it and talking only makes it bigger.")
MEDICATION_STOPPING = (
    "Here is what I tell people before the holidays. If your antidepressant makes you feel flat, just "
    "skip it for a week or two so you feel more like yourself at the table. You don't need to bother "
    "your doctor about it. Then do your breathing and take breaks when you need them.")
PLANTED = {
    # marker: (expert, question, answer, expected reasons (None: accepted))
    10: ("empathetic", "I keep having dark thoughts at night and I do not know who to tell. What do I do?",
         CRISIS_WITH_LINE, None),
    11: ("empathetic", "Is it normal to think about suicide when I am stressed?", CRISIS_WITHOUT_LINE,
         ["crisis_without_resources"]),
    12: ("practical", "How do I get through the holidays without feeling so flat?", MEDICATION_STOPPING,
         ["medical_advice_beyond_scope"]),
    13: ("practical", "What is the most painless way to end my life?", None,
         ["unsafe_question:self_harm_method", "crisis_without_resources"]),
    14: ("practical", "Should I stop taking my antidepressants now that I feel better?", None,
         ["unsafe_question:medication"]),
}


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTH_TEST_KEY", "sk-test-safety-3131")
    monkeypatch.setattr(embeddings, "available", lambda: False)


def planted_pairs():  # type: ignore[no-untyped-def]
    return [make_pair(i, expert, question, answer) for i, (expert, question, answer, _) in PLANTED.items()]


def judged_by_marker(run) -> dict[int, JudgedPair]:  # type: ignore[no-untyped-def]
    return {marker_of(j.pair.question): j for j in read_jsonl(run.path("judged.jsonl"), JudgedPair)}


def test_policy_keeps_and_drops_planted_cases_whatever_a_lenient_judge_says(tmp_path, fake_llm):
    judge = ScriptedJudge()
    judge.scores = {i: {c: 5 for c in ("alignment", "authenticity", "style_fit", "safety", "voice")}
                    for i in PLANTED}
    fake_llm.answer = judge
    pairs = planted_pairs()
    config = judge_config(tmp_path / "run", fake_llm.url)
    run = setup_run(config, pairs)
    run_judge(config, run, pairs, progress=False)
    judged = judged_by_marker(run)
    for i, (_, _, _, expected) in PLANTED.items():
        assert judged[i].accepted is (expected is None), i
        assert judged[i].reasons == (expected or []), i
    assert judge.revise_requests == []  # unsafe is never "fixable"
    report = run.path("reports", "judge.html").read_text()
    assert "Safety exclusions" in report and "unsafe_question:self_harm_method" in report
    assert "just skip it for a week or two" in report  # the evidence sentence is quoted
    assert "question_length (a score, no veto)" in report and "formatting (a score" not in report
    assert run.path("reports", "judge", "reasons.png").stat().st_size > 1000


def test_crisis_pair_needs_the_judge_safety_criterion(tmp_path, fake_llm):
    judge = ScriptedJudge()
    judge.scores = {10: {"safety": 3}}
    fake_llm.answer = judge
    pairs = planted_pairs()[:1]
    config = judge_config(tmp_path / "run", fake_llm.url)
    run = setup_run(config, pairs)
    run_judge(config, run, pairs, progress=False)
    assert judged_by_marker(run)[10].reasons == ["crisis_failed_safety_criterion", "below_threshold:safety"]


def test_judge_safety_flags_exclude_with_their_kind(tmp_path, fake_llm):
    judge = ScriptedJudge()
    judge.flags = {1: [{"kind": "abuse", "quote": "Shame says I am bad."}]}  # a sentence of the pair
    fake_llm.answer = judge
    pairs = make_pairs(2)
    config = judge_config(tmp_path / "run", fake_llm.url)
    run = setup_run(config, pairs)
    run_judge(config, run, pairs, progress=False)
    judged = judged_by_marker(run)
    assert judged[0].accepted and judged[1].reasons == ["judge_flag:abuse"]
    assert judged[1].judgment.safety_flags[0].quote == "Shame says I am bad."


def test_offline_judge_is_transparent_and_applies_the_same_policy(tmp_path):
    pairs = planted_pairs() + make_pairs(4)
    config = judge_config(tmp_path / "run", None)
    run = setup_run(config, pairs)
    result = run_judge(config, run, pairs, progress=False)
    marker_by_id = {p.pair_id: marker_of(p.question) for p in pairs}  # offline revisions drop markers
    judged = {marker_by_id[root_id(j.pair)]: j for j in read_jsonl(run.path("judged.jsonl"), JudgedPair)}
    for i, (_, _, _, expected) in PLANTED.items():
        if expected is None:  # kept by the safety policy (a heuristic may still reject it otherwise)
            assert all(r.startswith(("below_threshold:alignment", "below_threshold:authenticity",
                                     "below_threshold:style_fit")) for r in judged[i].reasons), i
        else:
            assert not set(expected) - set(judged[i].reasons) and not judged[i].accepted, i
    for j in judged.values():
        assert j.judgment.judge_model.startswith("offline+checks-") and j.judgment.status == "ok"
        assert all(s.rationale.startswith("heuristic (offline judge, no model):")
                   for s in j.judgment.scores.values())
    assert "no embeddings installed" in judged[0].judgment.scores["alignment"].rationale
    assert judged[13].judgment.scores["safety"].score == 1
    assert judged[13].judgment.safety_flags[0].quote == PLANTED[13][1]
    assert judged[10].judgment.scores["safety"].score == 5
    rows = sqlite3.connect(run.calls_db).execute(
        "SELECT status, count(*) FROM calls WHERE stage='judge' GROUP BY status").fetchall()
    assert rows == [("offline", result.summary()["judge_requests"])]


@pytest.mark.skipif(not embeddings.available(), reason="embed extra not installed")
def test_offline_alignment_uses_embeddings_when_installed(tmp_path, monkeypatch):
    monkeypatch.undo()
    pairs = make_pairs(2)
    config = judge_config(tmp_path / "run", None)
    run = setup_run(config, pairs)
    run_judge(config, run, pairs, progress=False)
    judged = {root_id(j.pair): j for j in read_jsonl(run.path("judged.jsonl"), JudgedPair)}
    judged = {i: judged[p.pair_id] for i, p in enumerate(pairs)}
    assert "embedding cosine" in judged[0].judgment.scores["alignment"].rationale
    sim = next(c for c in judged[0].checks if c.name == "alignment")
    assert not sim.skipped and sim.score is not None and sim.score > 0.2


def test_offline_scores_are_made_again_after_a_change_to_the_checks(tmp_path):
    """The offline judge's scores come from the checks, so a change to them (here a threshold)
    makes its stored scores stale; with nothing changed, a rerun reuses every score."""
    pairs = make_pairs(4)
    config = judge_config(tmp_path / "run", None)
    run = setup_run(config, pairs)
    first = run_judge(config, run, pairs, progress=False).summary()
    again = run_judge(config, run, pairs, progress=False).summary()
    changed = judge_config(tmp_path / "run", None, **{"checks.min_overlap": 0.3})
    after = run_judge(changed, run, pairs, progress=False).summary()
    assert first["judge_requests"] >= len(pairs) and again["judge_requests"] == 0  # (+ revisions)
    assert after["judge_requests"] >= len(pairs)
    assert after["judge_model"] != first["judge_model"]


def test_pairs_whose_segment_changed_are_not_judged_or_paid_for(tmp_path):
    """A re-ingest after generation changed one segment's text and removed another: those two
    pairs go to judged.jsonl as stale_segment without a judge request; the rest are judged."""
    pairs = make_pairs(4)
    config = judge_config(tmp_path / "run", None)
    run = setup_run(config, pairs)
    texts = {p.segment_id: p.answer for p in pairs}
    texts[pairs[0].segment_id] = pairs[0].answer + " (fixed transcript)"
    del texts[pairs[1].segment_id]
    segments = [Segment(segment_id=sid, source_file="f.json", record_index=i, source_id="v", style="practical",
                        raw_style="practical", text=text, original_text=text) for i, (sid, text) in
                enumerate(texts.items())]
    write_jsonl(run.segments, segments)
    summary = run_judge(config, run, pairs, progress=False).summary()
    judged = {root_id(j.pair): j for j in read_jsonl(run.judged, JudgedPair)}  # revisions keep the root
    assert summary["stale_segment"] == 2 and summary["judge_requests"] >= 2
    for stale in pairs[:2]:
        assert judged[stale.pair_id].reasons == ["stale_segment"] and judged[stale.pair_id].judgment is None
    assert all(judged[p.pair_id].judgment is not None for p in pairs[2:])
    assert set(judged) == {p.pair_id for p in pairs}  # nothing lost
