"""The revise loop: fixable rejections go back to the generator with the critique, up to
judge.max_revisions rounds, within the budget; every round is recorded; reruns pay nothing twice."""
from __future__ import annotations

import pytest
from judge_fixture import ScriptedJudge, judge_config, make_pairs, marker_of, setup_run

from synth.errors import BudgetExceeded
from synth.files import read_jsonl
from synth.judge.revise import root_id
from synth.judge.stage import run_judge
from synth.records import JudgedPair
from synth.text import embeddings


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTH_TEST_KEY", "sk-test-revise-7777")
    monkeypatch.setattr(embeddings, "available", lambda: False)


@pytest.fixture
def judge(fake_llm):  # type: ignore[no-untyped-def]
    scripted = ScriptedJudge()
    fake_llm.answer = scripted
    return scripted


def judged_by_marker(run) -> dict[int, JudgedPair]:  # type: ignore[no-untyped-def]
    return {marker_of(j.pair.question): j for j in read_jsonl(run.path("judged.jsonl"), JudgedPair)}


def test_revise_loop_stops_at_its_limit_and_records_every_round(tmp_path, fake_llm, judge):
    pairs = make_pairs(4)
    judge.scores = {1: {"alignment": 2}, 2: {"style_fit": 1}, 3: {"voice": 1}}
    judge.fixed_by_revision = {2}
    config = judge_config(tmp_path / "run", fake_llm.url, **{"judge.max_revisions": 2})
    run = setup_run(config, pairs)
    result = run_judge(config, run, pairs, progress=False)
    judged = judged_by_marker(run)
    stuck, fixed, unfixable = judged[1], judged[2], judged[3]
    assert stuck.pair.revision == 2 and not stuck.accepted and stuck.reasons == ["below_threshold:alignment"]
    history = stuck.pair.revision_history
    assert len(history) == 2 and history[0].question == pairs[1].question
    assert "alignment scored 2/5: scripted alignment 2" in history[0].critique
    assert history[0].reasons == "below_threshold:alignment" and history[1].judge_model == "judge-model"
    assert {h.root_pair_id for h in history} == {pairs[1].pair_id} == {root_id(stuck.pair)}
    assert history[1].previous_pair_id != pairs[1].pair_id != stuck.pair.pair_id
    assert fixed.accepted and fixed.pair.revision == 1 and "version 1" in fixed.pair.question
    assert unfixable.pair.revision == 0 and unfixable.reasons == ["below_threshold:voice"]
    # the critique reached the generator, in the revise prompt
    assert all("scripted" in b["messages"][1]["content"] for b in judge.revise_requests)
    assert len(judge.revise_requests) == 3 and judge.judge_requests == 4 + 3
    assert result.summary()["revised"] == 3 and result.summary()["revise_requests"] == 3
    assert result.summary()["revise_calls"] == 3  # the generator calls the revisions sent
    count = fake_llm.count
    run_judge(config, run, pairs, progress=False)  # rerun: revisions reloaded, nothing paid twice
    assert fake_llm.count == count
    assert judged_by_marker(run)[1].pair.revision == 2 and judged_by_marker(run)[2].accepted


def test_no_revisions_when_max_revisions_is_zero(tmp_path, fake_llm, judge):
    pairs = make_pairs(2)
    judge.scores = {0: {"authenticity": 1}}
    config = judge_config(tmp_path / "run", fake_llm.url, **{"judge.max_revisions": 0})
    run = setup_run(config, pairs)
    run_judge(config, run, pairs, progress=False)
    assert judge.revise_requests == [] and fake_llm.count == 2
    assert judged_by_marker(run)[0].reasons == ["below_threshold:authenticity"]


def test_revise_loop_stays_within_budget_and_a_raised_cap_resumes(tmp_path, fake_llm, judge):
    pairs = make_pairs(6)
    judge.scores = {i: {"alignment": 2} for i in range(6)}
    prices = {"generator.price_out_per_mtok": 1000.0, "judge.price_out_per_mtok": 1000.0,
              "generator.max_tokens": 200, "judge.max_tokens": 300, "judge.max_revisions": 3}
    config = judge_config(tmp_path / "run", fake_llm.url, **prices, **{"budget.max_usd": 1.6})
    run = setup_run(config, pairs)
    with pytest.raises(BudgetExceeded):  # some revised pair could not be judged
        run_judge(config, run, pairs, progress=False)
    judged = judged_by_marker(run)
    assert fake_llm.spend(0.0, 1000.0) <= 1.6 + 1e-9
    assert len(judged) == 6 and not any(j.accepted for j in judged.values())
    assert max(j.pair.revision for j in judged.values()) < 3  # stopped before the limit
    assert any(r.startswith(("not_judged:budget", "revise_skipped:budget")) for j in judged.values()
               for r in j.reasons)
    first_revisions = len(judge.revise_requests)
    raised = judge_config(tmp_path / "run", fake_llm.url, **prices, **{"budget.max_usd": 100})
    run_judge(raised, run, pairs, progress=False)
    judged = judged_by_marker(run)
    assert all(j.pair.revision == 3 for j in judged.values())
    assert len(judge.revise_requests) == 6 * 3 >= first_revisions  # each round paid once
    assert judge.judge_requests == 6 * 4


def test_judge_max_usd_caps_judging_on_its_own(tmp_path, fake_llm, judge):
    pairs = make_pairs(6)
    sets = {"judge.price_out_per_mtok": 1000.0, "judge.max_tokens": 300, "judge.concurrency": 1,
            "budget.judge_max_usd": 0.7, "budget.max_usd": 100}
    config = judge_config(tmp_path / "run", fake_llm.url, **sets)
    run = setup_run(config, pairs)
    with pytest.raises(BudgetExceeded, match="pairs not judged"):
        run_judge(config, run, pairs, progress=False)
    judged = list(read_jsonl(run.path("judged.jsonl"), JudgedPair))
    waiting = [j for j in judged if j.judgment is None]
    assert len(judged) == 6 and 0 < len(waiting) < 6 and fake_llm.count == 6 - len(waiting)
    assert all(j.reasons == ["not_judged:budget_exhausted"] for j in waiting)
    assert fake_llm.spend(0.0, 1000.0) <= 0.7 + 1e-9
    fake_llm.reset_stats()
    more = judge_config(tmp_path / "run", fake_llm.url, **{**sets, "budget.judge_max_usd": 10})
    run_judge(more, run, pairs, progress=False)
    assert fake_llm.count == len(waiting)


def test_a_token_cap_stop_names_budget_max_tokens(tmp_path, fake_llm, judge):
    """Regression: the stop message named only the dollar caps when budget.max_tokens stopped it."""
    pairs = make_pairs(6)
    sets = {"judge.max_tokens": 300, "judge.concurrency": 1, "judge.max_revisions": 0,
            "budget.max_usd": None, "budget.max_tokens": 1500}
    config = judge_config(tmp_path / "run", fake_llm.url, **sets)
    run = setup_run(config, pairs)
    with pytest.raises(BudgetExceeded, match=r"raise budget\.max_tokens and rerun") as stop:
        run_judge(config, run, pairs, progress=False)
    assert "max_usd" not in str(stop.value)
    assert fake_llm.usage["prompt_tokens"] + fake_llm.usage["completion_tokens"] <= 1500
