"""generate: offline determinism, pairs, failures, resume, cache invalidation, budget, secrets."""
from __future__ import annotations

import shutil

import pytest
from fake_llm_server import Fault
from generate_fixture import REPO, gen_config, make_segments, segment_of

from synth.errors import BudgetExceeded
from synth.experts import load_experts
from synth.files import read_jsonl
from synth.generate.stage import run_generate
from synth.records import GenerationFailure, Pair
from synth.rundir import open_run

KEY = "sk-test-generate-secret-4242"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTH_TEST_KEY", KEY)


def pairs_of(run) -> list[Pair]:
    return list(read_jsonl(run.pairs, Pair))


def failures_of(run) -> list[GenerationFailure]:
    return list(read_jsonl(run.failures, GenerationFailure))


def test_offline_pairs_are_complete_and_deterministic(tmp_path):
    segments = make_segments(8)
    runs = []
    for name in ("a", "b"):
        config = gen_config(tmp_path / name)
        run = open_run(config)
        summary = run_generate(config, run, segments, progress=False)
        assert summary.pairs_written == 24 and summary.failed == 0 and summary.calls == 0
        runs.append([p.model_dump(exclude={"created_at"}) for p in pairs_of(run)])
    assert runs[0] == runs[1]
    experts = load_experts(REPO / "configs/experts.yaml")
    by_segment = {s.segment_id: s for s in segments}
    for pair in map(Pair.model_validate, runs[0]):
        seg = by_segment[pair.segment_id]
        assert pair.answer == seg.text and pair.expert == seg.style and pair.generator == "offline"
        assert pair.question_type in experts.get(pair.expert).question_types
        assert pair.concepts and pair.prompt_hash and pair.persona and "?" in pair.question
    questions = [p["question"] for p in runs[0]]
    for seg in segments:  # never the same question twice for one segment
        own = [p["question"] for p in runs[0] if p["segment_id"] == seg.segment_id]
        assert len(set(own)) == len(own) == 3
    assert len(set(questions)) >= 0.9 * len(questions)  # segments i and i+4 share their text
    assert len({p["question_type"] for p in runs[0]}) >= 8  # varied types across experts


def test_a_different_seed_varies_the_offline_questions(tmp_path):
    segments = make_segments(4)
    got = []
    for seed in (0, 1):
        config = gen_config(tmp_path / f"s{seed}", seed=seed)
        run = open_run(config)
        run_generate(config, run, segments, progress=False)
        got.append([p.question for p in pairs_of(run)])
    assert got[0] != got[1]


def test_unknown_expert_is_a_recorded_failure(tmp_path):
    segments = make_segments(2)
    segments[1] = segments[1].model_copy(update={"style": "astrology"})
    config = gen_config(tmp_path / "run")
    run = open_run(config)
    summary = run_generate(config, run, segments, progress=False)
    assert summary.failures == {"unknown_expert": 1} and len(pairs_of(run)) == 3
    assert failures_of(run)[0].segment_id == segments[1].segment_id


def test_llm_run_with_one_in_five_faults_then_answers_from_cache(tmp_path, fake_llm):
    fake_llm.every(5)
    segments = make_segments(24)
    config = gen_config(tmp_path / "run", fake_llm.url)
    run = open_run(config)
    summary = run_generate(config, run, segments, progress=False)
    held = {p.segment_id for p in pairs_of(run)} | {f.segment_id for f in failures_of(run)}
    assert held == {s.segment_id for s in segments}
    assert summary.segments_ok + summary.failed == 24 and fake_llm.faulted >= 5
    assert all(len(q) == 3 for q in _questions_by_segment(run).values())
    failed_ids = {int(f.segment_id.split("-")[1]) for f in failures_of(run)}
    sent = fake_llm.count
    run.pairs.unlink()  # throw the outputs away: a full rerun must come from the cache
    run.failures.unlink(missing_ok=True)
    again = run_generate(config, run, segments, progress=False)
    assert again.cached == summary.segments_ok
    assert {segment_of(b) for b in fake_llm.requests[sent:]} <= failed_ids  # no call for cached work


def _questions_by_segment(run) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for pair in pairs_of(run):
        out.setdefault(pair.segment_id, []).append(pair.question)
    return out


def test_resume_skips_done_segments_and_final_failures_only(tmp_path, fake_llm):
    segments = make_segments(6)
    config = gen_config(tmp_path / "run", fake_llm.url, **{"generator.max_retries": 0})
    fake_llm.fault_fn = lambda i, body: (Fault("schema_invalid") if segment_of(body) == 1
                                         else Fault.status(500) if segment_of(body) == 2 else None)
    run = open_run(config)
    first = run_generate(config, run, segments, progress=False)
    assert first.failures == {"validation_failed": 1, "http_5xx": 1}
    fake_llm.fault_fn = None
    fake_llm.reset_stats()
    second = run_generate(config, run, segments, progress=False)
    assert second.already_done == 5 and second.segments_ok == 1  # only the 5xx one is tried again
    assert [segment_of(b) for b in fake_llm.requests] == [2]
    third = run_generate(config, run, segments, progress=False, retry_failed=True)
    assert third.segments_ok == 1 and [segment_of(b) for b in fake_llm.requests] == [2, 1]


def test_changing_one_expert_template_resends_only_that_experts_requests(tmp_path, fake_llm):
    prompts = tmp_path / "prompts"
    shutil.copytree(REPO / "prompts", prompts)
    segments = make_segments(8)
    config = gen_config(tmp_path / "run", fake_llm.url, **{"generator.prompts_dir": str(prompts)})
    run = open_run(config)
    run_generate(config, run, segments, progress=False)
    assert fake_llm.count == 8
    template = prompts / "generate" / "practical.j2"
    template.write_text(template.read_text() + "\nKeep each question plain.\n")
    run.pairs.unlink()
    fake_llm.reset_stats()
    summary = run_generate(config, run, segments, progress=False)
    assert fake_llm.count == 2 and summary.cached == 6
    assert {segments[segment_of(b)].style for b in fake_llm.requests} == {"practical"}
    changed = {p.prompt_hash for p in pairs_of(run) if p.expert == "practical"}
    assert len(changed) == 1


def test_budget_stop_says_what_is_left_and_a_raised_cap_resumes(tmp_path, fake_llm):
    fake_llm.latency_s = 0.02
    prices = {"generator.price_in_per_mtok": 3.0, "generator.price_out_per_mtok": 15.0}
    segments = make_segments(40)
    config = gen_config(tmp_path / "run", fake_llm.url, **prices, **{"budget.max_usd": 0.05})
    run = open_run(config)
    with pytest.raises(BudgetExceeded, match=r"segment\(s\) left") as info:
        run_generate(config, run, segments, progress=False)
    summary = info.value.summary
    assert summary.budget_exhausted and 0 < summary.remaining_segments < 40
    assert summary.remaining.worst_case_usd > summary.remaining.typical_usd > 0
    assert fake_llm.spend(3.0, 15.0) <= 0.05
    saved = {p.segment_id for p in pairs_of(run)}
    assert len(saved) + summary.remaining_segments == 40
    first_requests = list(fake_llm.requests)
    bigger = gen_config(tmp_path / "run", fake_llm.url, **prices, **{"budget.max_usd": 5})
    done = run_generate(bigger, run, segments, progress=False)
    assert done.already_done == len(saved) and len({p.segment_id for p in pairs_of(run)}) == 40
    resent = {segment_of(b) for b in fake_llm.requests[len(first_requests):]}
    assert not resent & {int(s.split("-")[1]) for s in saved}


def test_dry_run_estimates_without_sending(tmp_path, fake_llm):
    config = gen_config(tmp_path / "run", fake_llm.url, **{"generator.price_in_per_mtok": 1.0,
                                                           "generator.price_out_per_mtok": 4.0})
    run = open_run(config)
    summary = run_generate(config, run, make_segments(10), dry_run=True, progress=False)
    est = summary.estimate
    assert est.segments == 10 and est.prompt_tokens > 1000 and 0 < est.typical_usd < est.worst_case_usd
    assert fake_llm.count == 0 and not run.pairs.exists()


def test_api_key_never_reaches_any_file_the_run_writes(tmp_path):
    from fake_llm_server import FakeLLMServer

    with FakeLLMServer(api_key=KEY) as server:  # the key is checked on every request
        server.every(3)
        server.queue(Fault.status(429, retry_after=0.05))
        config = gen_config(tmp_path / "run", server.url, **{"generator.price_in_per_mtok": 1.0})
        run = open_run(config)
        summary = run_generate(config, run, make_segments(8), progress=False)
    assert summary.segments_ok == 8 and server.answered >= 8
    for path in (tmp_path / "run").rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    assert config.generator.api_key_env in (tmp_path / "run" / "config.yaml").read_text()


def test_revise_pair_offline_and_online(tmp_path, fake_llm):
    import asyncio

    from synth.generate.revise import open_generation, revise_pair

    async def revise(config, pair, critique):
        async with open_generation(config, open_run(config)) as gen:
            return await revise_pair(gen, pair, critique)

    config = gen_config(tmp_path / "off")
    run = open_run(config)
    run_generate(config, run, make_segments(2), progress=False)
    pair = pairs_of(run)[0]
    revised = asyncio.run(revise(config, pair, "The question is too generic; ask about guilt."))
    assert isinstance(revised, Pair) and revised.revision == 1 and revised.question != pair.question
    assert revised.pair_id != pair.pair_id and revised.answer == pair.answer
    assert revised.revision_history[0].question == pair.question
    online = gen_config(tmp_path / "on", fake_llm.url)
    again = asyncio.run(revise(online, revised, "Make it shorter."))
    assert isinstance(again, Pair) and again.revision == 2 and again.generator == "openai"
    prompt = fake_llm.requests[-1]["messages"][-1]["content"]
    assert "Make it shorter." in prompt and revised.question in prompt
    fake_llm.fault_fn = lambda i, body: Fault.status(500)
    failed = asyncio.run(revise(online, again, "Another try."))
    assert isinstance(failed, GenerationFailure) and failed.reason == "http_5xx"
