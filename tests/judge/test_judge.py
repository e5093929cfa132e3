"""The judge stage against the local fake server: stale-only re-judging (calls counted at the
server), zero-call threshold changes, failures as their own status, diff flips."""
from __future__ import annotations

import json
import sqlite3

import pytest
from fake_llm_server import Fault
from judge_fixture import (
    CRITERIA,
    ScriptedJudge,
    judge_config,
    make_pairs,
    marker_of,
    rubric_copy,
    setup_run,
)

from synth.cli import main
from synth.files import read_jsonl
from synth.judge.diff import judge_diff
from synth.judge.stage import run_judge
from synth.judge.store import JudgmentStore
from synth.records import JudgedPair
from synth.text import embeddings

KEY = "sk-test-judge-secret-5151"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTH_TEST_KEY", KEY)
    monkeypatch.setattr(embeddings, "available", lambda: False)  # fast: similarity recorded as skipped


@pytest.fixture
def judge(fake_llm):  # type: ignore[no-untyped-def]
    scripted = ScriptedJudge()
    fake_llm.answer = scripted
    return scripted


def judged_of(run) -> list[JudgedPair]:  # type: ignore[no-untyped-def]
    return list(read_jsonl(run.path("judged.jsonl"), JudgedPair))


def reworded(data: dict) -> None:
    data["criteria"]["voice"]["description"] += " Judge the spoken voice, not the transcription."


def test_judges_every_pair_then_a_rerun_makes_no_call(tmp_path, fake_llm, judge):
    config = judge_config(tmp_path / "run", fake_llm.url)
    pairs = make_pairs(6)
    run = setup_run(config, pairs)
    result = run_judge(config, run, pairs, progress=False)
    assert fake_llm.count == 6 and result.summary()["judge_requests"] == 6
    judged = judged_of(run)
    assert [j.pair.pair_id for j in judged] == [p.pair_id for p in pairs]
    for j in judged:
        assert j.judgment is not None and j.judgment.status == "ok" and j.accepted and j.reasons == []
        assert j.judgment.judge_model == "judge-model" and set(j.judgment.scores) == set(CRITERIA)
        assert j.judgment.rubric_hash == result.rubric_hash and j.judgment.input_hash
        assert [c.name for c in j.checks] == ["alignment", "lexical_overlap", "safety_screen",
                                              "formatting", "question_length", "harmful_request",
                                              "degenerate_question"]
    again = run_judge(config, run, pairs, progress=False)
    assert fake_llm.count == 6 and again.summary()["judge_requests"] == 0
    assert [j.model_dump(exclude={"judgment"}) for j in judged_of(run)] == \
        [j.model_dump(exclude={"judgment"}) for j in judged]
    calls = sqlite3.connect(run.calls_db).execute(
        "SELECT count(*) FROM calls WHERE stage='judge' AND status='ok'").fetchone()[0]
    assert calls == 6


def test_reworded_criterion_rejudges_every_pair_once_and_keeps_history(tmp_path, fake_llm, judge):
    pairs = make_pairs(5)
    config = judge_config(tmp_path / "run", fake_llm.url)
    run = setup_run(config, pairs)
    run_judge(config, run, pairs, progress=False)
    new = rubric_copy(tmp_path, "v2.yaml", reworded)
    config2 = judge_config(tmp_path / "run", fake_llm.url, rubric=new)
    old_hash = judged_of(run)[0].judgment.rubric_hash
    first = run_judge(config2, run, pairs, progress=False)
    assert fake_llm.count == 10 and first.rubric_hash != old_hash
    assert all(j.judgment.rubric_hash == first.rubric_hash for j in judged_of(run))
    run_judge(config2, run, pairs, progress=False)
    assert fake_llm.count == 10
    run_judge(config, run, pairs, progress=False)  # back to the old rubric: still current
    assert fake_llm.count == 10
    with JudgmentStore(run.judgments_db) as store:
        history = store.history(pairs[0].pair_id)
    assert len(history) == 2 and history[0].rubric_hash != history[1].rubric_hash


def test_only_stale_pairs_are_judged(tmp_path, fake_llm, judge):
    pairs = make_pairs(4)
    config = judge_config(tmp_path / "run", fake_llm.url)
    run = setup_run(config, pairs)
    run_judge(config, run, pairs, progress=False)
    edited = pairs[1].model_copy(update={"question": "Honestly, " + pairs[1].question})
    grown = [pairs[0], edited, *pairs[2:], *make_pairs(6)[4:]]
    fake_llm.reset_stats()
    run_judge(config, run, grown, progress=False)
    assert fake_llm.count == 3  # the edited question and two new pairs
    judged = {marker_of(b["messages"][1]["content"]) for b in fake_llm.requests}
    assert judged == {1, 4, 5}


def test_threshold_change_redecides_with_zero_calls(tmp_path, fake_llm, judge):
    pairs = make_pairs(8)
    judge.scores = {i: {"alignment": 3} for i in (0, 1, 2)}
    config = judge_config(tmp_path / "run", fake_llm.url)
    run = setup_run(config, pairs)
    run_judge(config, run, pairs, progress=False)
    assert all(j.accepted for j in judged_of(run))
    stricter = rubric_copy(tmp_path, "strict.yaml", lambda d: d["accept"]["thresholds"].update(alignment=4))
    fake_llm.reset_stats()
    result = run_judge(judge_config(tmp_path / "run", fake_llm.url, rubric=stricter), run, pairs, progress=False)
    assert fake_llm.count == 0  # no judge call, and no revision either
    rejected = [j for j in judged_of(run) if not j.accepted]
    assert [marker_of(j.pair.question) for j in rejected] == [0, 1, 2]
    assert all(j.reasons == ["below_threshold:alignment"] for j in rejected)
    assert result.summary()["reasons"] == {"below_threshold:alignment": 3}
    per_expert = rubric_copy(tmp_path, "expert.yaml",
                             lambda d: d["accept"]["experts"].update(practical={"alignment": 5}))
    run_judge(judge_config(tmp_path / "run", fake_llm.url, rubric=per_expert), run, pairs, progress=False)
    assert fake_llm.count == 0
    assert sorted(marker_of(j.pair.question) for j in judged_of(run) if not j.accepted) == [3, 7]


@pytest.mark.parametrize("fault, reason", [(Fault("malformed"), "validation_failed"),
                                           (Fault.status(500), "http_5xx"),
                                           (Fault("length"), "truncated")])
def test_judge_failures_keep_their_status_and_are_retried(tmp_path, fake_llm, judge, fault, reason):
    pairs = make_pairs(4)
    fake_llm.fault_fn = lambda index, body: fault if marker_of(body["messages"][1]["content"]) == 2 else None
    config = judge_config(tmp_path / "run", fake_llm.url)
    run = setup_run(config, pairs)
    result = run_judge(config, run, pairs, progress=False)
    failed = judged_of(run)[2]
    assert failed.judgment is not None and failed.judgment.status == "failed"
    assert failed.judgment.scores == {} and failed.judgment.error.startswith(reason)
    assert failed.accepted is False and failed.reasons == [f"judge_failed:{reason}"]
    assert result.summary()["failed"] == 1 and all(j.accepted for i, j in enumerate(judged_of(run)) if i != 2)
    tries = [b for b in fake_llm.requests if marker_of(b["messages"][1]["content"]) == 2]
    assert len(tries) == 2 * (config.judge.max_retries + 1)  # engine retries, then one retry pass
    fake_llm.fault_fn = None
    fake_llm.reset_stats()
    run_judge(config, run, pairs, progress=False)  # a rerun retries the failure only
    assert fake_llm.count == 1 and judged_of(run)[2].accepted
    with JudgmentStore(run.judgments_db) as store:
        assert [j.status for j in store.history(pairs[2].pair_id)] == ["failed", "failed", "ok"]


def test_diff_reports_flips_per_expert(tmp_path, fake_llm, judge, capsys):
    pairs = make_pairs(8)
    judge.scores = {0: {"style_fit": 2}, 5: {"style_fit": 2}}
    judge.strict_word = "STRICTLY"
    old = rubric_copy(tmp_path, "old.yaml")
    new = rubric_copy(tmp_path, "new.yaml", lambda d: d["criteria"]["alignment"].update(
        description=d["criteria"]["alignment"]["description"] + " Grade STRICTLY."))
    config = judge_config(tmp_path / "run", fake_llm.url, rubric=old, **{"judge.max_revisions": 0})
    run = setup_run(config, pairs)
    run_judge(config, run, pairs, progress=False)
    new_config = judge_config(tmp_path / "run", fake_llm.url, rubric=new, **{"judge.max_revisions": 0})
    run_judge(new_config, run, pairs, progress=False)
    fake_llm.reset_stats()
    diff = judge_diff(config, run, pairs, old, new)
    assert fake_llm.count == 0 and not diff.same_judgments
    # alignment drops to 2 under the new wording: every pair accepted before is now rejected
    assert {e: (c.accept_to_reject, c.reject_to_accept, c.still_rejected) for e, c in diff.experts.items()} == {
        "therapeutic": (1, 0, 1), "educational": (1, 0, 1), "empathetic": (2, 0, 0), "practical": (2, 0, 0)}
    assert sorted(marker_of(p.question) for p in pairs if p.pair_id in {f.pair_id for f in diff.flips}) == \
        [1, 2, 3, 4, 6, 7]
    assert all(f.new_reasons == ["below_threshold:alignment"] for f in diff.flips)
    code = main(["judge-diff", str(config.source_path), str(new), str(old), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["experts"]["practical"]["reject_to_accept"] == 2
    assert len(data["flips"]) == 6


def test_threshold_only_diff_shares_judgments(tmp_path, fake_llm, judge):
    pairs = make_pairs(4)
    judge.scores = {1: {"voice": 3}}
    config = judge_config(tmp_path / "run", fake_llm.url)
    run = setup_run(config, pairs)
    run_judge(config, run, pairs, progress=False)
    stricter = rubric_copy(tmp_path, "strict.yaml", lambda d: d["accept"]["thresholds"].update(voice=4))
    diff = judge_diff(config, run, pairs, config.resolve(config.judge.rubric), stricter)
    assert diff.same_judgments and diff.totals().accept_to_reject == 1 and diff.totals().not_judged == 0
    unjudged = rubric_copy(tmp_path, "other.yaml", reworded)
    assert judge_diff(config, run, pairs, stricter, unjudged).totals().not_judged == 4


def test_judge_cli_summary_and_missing_pairs(tmp_path, fake_llm, judge, capsys):
    pairs = make_pairs(3)
    config = judge_config(tmp_path / "run", fake_llm.url)
    setup_run(config, pairs)
    assert main(["judge", str(config.source_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["pairs"] == 3 and summary["judge_requests"] == 3 and summary["accepted"] == 3
    empty = judge_config(tmp_path / "empty", fake_llm.url)
    assert main(["judge", str(empty.source_path)]) == 3
    assert "no pairs yet" in capsys.readouterr().err
