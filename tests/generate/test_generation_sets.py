"""Generation sets: a model swap in one run dir, status per set, compare, set selection, stale pairs."""
from __future__ import annotations

import json

import pytest
from generate_fixture import REPO, gen_config_file, make_segments

from synth.cli import main
from synth.files import read_jsonl, write_jsonl
from synth.records import CuratedPair, ExcludedPair, GenerationSet, JudgedPair, Pair, Segment

KEY = "sk-test-sets-secret-31337"
PRICES = {"generator.price_in_per_mtok": 1.0, "generator.price_out_per_mtok": 2.0}


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTH_TEST_KEY", KEY)


def _run(tmp_path, n: int, url: str | None = None, **sets):
    run_dir = tmp_path / "run"
    config = gen_config_file(run_dir, url, **{"judge.rubric": str(REPO / "judges/default.yaml")}, **sets)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(run_dir / "segments.jsonl", make_segments(n))
    return str(config), run_dir


def _json(capsys, argv: list[str]) -> dict:
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_model_swap_writes_a_second_set_beside_the_first(tmp_path, fake_llm, capsys):
    config, run_dir = _run(tmp_path, 6, fake_llm.url, **PRICES)
    assert main(["generate", config, "--no-progress"]) == 0
    first = (run_dir / "pairs.jsonl").read_text()
    swap = ["--set", "generator.model=other-model"]
    assert main(["generate", config, *swap, "--no-progress"]) == 0
    assert "0 of its segment(s) already done; 1 other set(s)" in capsys.readouterr().out
    assert [b["model"] for b in fake_llm.requests] == ["fake-model"] * 6 + ["other-model"] * 6
    text = (run_dir / "pairs.jsonl").read_text()
    assert text.startswith(first)  # the first set is left as it was
    pairs = list(read_jsonl(run_dir / "pairs.jsonl", Pair))
    sets = list(read_jsonl(run_dir / "generations.jsonl", GenerationSet))
    assert [s.model for s in sets] == ["fake-model", "other-model"]
    by_set = {s.generation_id: [p for p in pairs if p.generation == s.generation_id] for s in sets}
    assert [len(v) for v in by_set.values()] == [18, 18]
    assert all(p.generator_model == "other-model" for p in by_set[sets[1].generation_id])
    fake_llm.reset_stats()
    assert main(["generate", config, *swap, "--no-progress"]) == 0  # resumes its own set: done
    assert fake_llm.count == 0
    status = _json(capsys, ["status", config, "--json"])
    assert [{k: g[k] for k in ("id", "provider", "model", "pairs", "failed")} for g in status["generations"]] == [
        {"id": s.generation_id, "provider": "openai", "model": s.model, "pairs": 18, "failed": 0}
        for s in sets]
    assert all(g["spend_usd"] > 0 for g in status["generations"])
    assert sum(g["spend_usd"] for g in status["generations"]) == pytest.approx(status["spend_usd"])


def test_compare_lists_both_sets_with_the_numbers_of_the_judged_file(tmp_path, fake_llm, capsys):
    config, run_dir = _run(tmp_path, 8, fake_llm.url, **PRICES)
    assert main(["generate", config, "--no-progress"]) == 0
    assert main(["generate", config, "--set", "generator.model=other-model", "--no-progress"]) == 0
    assert main(["judge", config]) == 0
    report = _json(capsys, ["compare", config, "--json"])
    judged = list(read_jsonl(run_dir / "judged.jsonl", JudgedPair))
    assert len(report["generations"]) == 2 and len(judged) == 48
    keys = {"id", "model", "pairs", "judged", "accepted", "accept_rate", "mean_scores", "failed",
            "spend_usd", "cost_per_accepted_usd", "distinct_bigrams", "embedding_distance",
            "question_words", "experts"}
    for entry in report["generations"]:
        assert keys <= entry.keys()
        own = [j for j in judged if j.pair.generation == entry["id"]]
        ok = [j for j in own if j.judgment and j.judgment.status == "ok"]
        accepted = sum(j.accepted for j in ok)
        assert (entry["pairs"], entry["judged"], entry["accepted"]) == (len(own), len(ok), accepted)
        assert entry["accept_rate"] == pytest.approx(accepted / len(ok))
        for criterion, mean in entry["mean_scores"].items():
            scores = [j.judgment.scores[criterion].score for j in ok]
            assert mean == pytest.approx(sum(scores) / len(scores))
        written = [p for p in read_jsonl(run_dir / "pairs.jsonl", Pair) if p.generation == entry["id"]]
        words = [len(p.question.split()) for p in written]  # the generator's own questions
        assert entry["question_words"] == pytest.approx(sum(words) / len(words))
        assert 0 < entry["distinct_bigrams"] <= 1 and entry["spend_usd"] > 0
        assert set(entry["experts"]) == {"therapeutic", "educational", "empathetic", "practical"}
        assert sum(e["pairs"] for e in entry["experts"].values()) == entry["pairs"]
        assert sum(e["spend_usd"] for e in entry["experts"].values()) == pytest.approx(entry["spend_usd"])
    html = (run_dir / "reports" / "compare.html").read_text()
    assert "other-model" in html and "fake-model" in html and "<img" in html
    capsys.readouterr()
    assert main(["compare", config]) == 0  # the table, at 80 columns: nothing cut to "…"
    out = capsys.readouterr().out
    assert all(e["id"] in out and e["model"] in out for e in report["generations"])
    assert "…" not in out and max(len(line) for line in out.splitlines()) <= 80


def test_unknown_price_with_a_dollar_cap_exits_2_before_any_request(tmp_path, fake_llm, capsys):
    unpriced = {"generator.price_in_per_mtok": None, "generator.price_out_per_mtok": None,
                "budget.max_usd": 1}
    config, run_dir = _run(tmp_path, 4, fake_llm.url, **unpriced)
    for extra in ([], ["--dry-run"]):
        assert main(["generate", config, "--no-progress", *extra]) == 2
        err = capsys.readouterr().err
        assert "generator.price_in_per_mtok" in err and "price_out_per_mtok" in err
    assert fake_llm.count == 0 and not (run_dir / "pairs.jsonl").exists()
    assert not (run_dir / "generations.jsonl").exists()  # no set was started
    no_cap = ["--set", "budget.max_usd=null", "--no-progress"]
    assert main(["generate", config, *no_cap]) == 0 and fake_llm.count == 4


def test_dry_run_shows_dollars_and_tokens(tmp_path, fake_llm, capsys):
    config, _ = _run(tmp_path, 5, fake_llm.url, **PRICES, **{"budget.max_tokens": 100000})
    estimate = _json(capsys, ["generate", config, "--dry-run", "--json"])["estimate"]
    assert estimate["worst_case_tokens"] > estimate["typical_tokens"] > estimate["prompt_tokens"] > 0
    assert estimate["worst_case_usd"] > 0 and estimate["price_source"] == "config"
    assert main(["generate", config, "--dry-run"]) == 0
    assert "tokens" in capsys.readouterr().out and fake_llm.count == 0


def test_a_cap_under_a_cent_is_shown_as_set(tmp_path, fake_llm, capsys):
    """Regression: budget.max_usd 0.001 was shown as "$0.00" in the dry run and the stop message."""
    config, _ = _run(tmp_path, 5, fake_llm.url, **PRICES, **{"budget.max_usd": 0.001})
    capsys.readouterr()
    assert main(["generate", config, "--dry-run"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "budget caps: $0.001" in out and fake_llm.count == 0
    unpriced = ["--set", "generator.price_in_per_mtok=null", "--set", "generator.price_out_per_mtok=null",
                "--set", "budget.max_usd=null"]
    assert main(["generate", config, "--dry-run", *unpriced]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "cost about $? /" in out and "$0.0000" not in out  # unpriced is unknown, not free


def test_generate_judge_and_run_summaries_name_a_replica_taken_out(tmp_path, fake_llm, capsys):
    """Regression: `synth judge` and `synth run` dropped replicas_out from what they print."""
    from fake_llm_server import refused_url

    from synth.generate.stage import GenerateSummary
    from synth.pipeline import _summary

    dead = refused_url()
    urls = [fake_llm.url, dead]
    judge = {"judge.provider": "openai", "judge.model": "fake-model", "judge.base_url": urls,
             "judge.api_key_env": "SYNTH_TEST_KEY", "judge.price_in_per_mtok": 0.0,
             "judge.price_out_per_mtok": 0.0, "judge.concurrency": 8, "judge.max_revisions": 0}
    config, _ = _run(tmp_path, 6, urls, **PRICES, **judge)
    capsys.readouterr()
    assert main(["generate", config, "--no-progress"]) == 0
    assert f"replica {dead} was taken out" in capsys.readouterr().out
    assert main(["judge", config]) == 0
    assert f"replica {dead} was taken out" in " ".join(capsys.readouterr().err.split())
    assert _summary(GenerateSummary(replicas_out={dead: 1}))["replicas_out"] == {dead: 1}


def test_curate_takes_the_current_set_or_the_named_ones(tmp_path, capsys):
    config, run_dir = _run(tmp_path, 8)
    assert main(["generate", config, "--no-progress"]) == 0
    other = ["--set", "generator.questions_per_segment=2"]
    assert main(["generate", config, *other, "--no-progress"]) == 0
    assert main(["judge", config, *other]) == 0
    sets = [s.generation_id for s in read_jsonl(run_dir / "generations.jsonl", GenerationSet)]
    assert main(["curate", config, *other]) == 0
    curated = [c for split in ("train", "val")
               for c in read_jsonl(run_dir / "curated" / f"{split}.jsonl", CuratedPair)]
    excluded = list(read_jsonl(run_dir / "curated" / "excluded.jsonl", ExcludedPair))
    assert curated and {c.pair.generation for c in curated} == {sets[1]}
    assert sum(e.reason == "other_generation" for e in excluded) == 24
    assert main(["curate", config, *other, "--set", "curate.generations=all"]) == 0
    curated = [c for split in ("train", "val")
               for c in read_jsonl(run_dir / "curated" / f"{split}.jsonl", CuratedPair)]
    assert {c.pair.generation for c in curated} == set(sets)
    assert main(["curate", config, "--set", "curate.generations=[nope]"]) == 2


def test_pairs_of_changed_or_removed_segments_are_stale(tmp_path, capsys):
    config, run_dir = _run(tmp_path, 8)
    assert main(["generate", config, "--no-progress"]) == 0
    assert main(["judge", config]) == 0
    segments = make_segments(8)
    changed = segments[1].model_copy(update={"text": segments[1].text + " And one more sentence."})
    write_jsonl(run_dir / "segments.jsonl", [changed, *segments[2:]])  # seg-0000 is gone
    status = _json(capsys, ["status", config, "--json"])  # regression: stale pairs counted as done
    assert (status["segments"], status["segments_with_pairs"], status["pending"]) == (7, 6, 1)
    assert status["stale_pairs"] == 6 and status["generations"][0]["pending"] == 1
    assert main(["curate", config]) == 0
    excluded = list(read_jsonl(run_dir / "curated" / "excluded.jsonl", ExcludedPair))
    stale = {e.pair_id for e in excluded if e.reason == "stale_segment"}
    judged = list(read_jsonl(run_dir / "judged.jsonl", JudgedPair))
    assert stale == {j.pair.pair_id for j in judged if j.pair.segment_id in ("seg-0000", "seg-0001")}
    assert len(stale) == 6
    curated = [c for split in ("train", "val")
               for c in read_jsonl(run_dir / "curated" / f"{split}.jsonl", CuratedPair)]
    assert not {c.pair.segment_id for c in curated} & {"seg-0000", "seg-0001"}
    assert main(["generate", config, "--no-progress"]) == 0  # the changed segment gets new pairs
    fresh = [p for p in read_jsonl(run_dir / "pairs.jsonl", Pair) if p.segment_id == "seg-0001"]
    assert any(p.answer == changed.text for p in fresh)


def test_offline_types_are_those_the_segment_supports_and_a_revision_may_change_it(tmp_path):
    import asyncio

    from synth.config import load_config
    from synth.experts import load_experts
    from synth.generate.revise import open_generation, revise_pair
    from synth.generate.typecues import load_type_cues
    from synth.rundir import open_run

    config, run_dir = _run(tmp_path, 8)
    assert main(["generate", config, "--no-progress"]) == 0
    cues = load_type_cues(REPO / "prompts")
    experts = load_experts(REPO / "configs/experts.yaml")
    pairs = list(read_jsonl(run_dir / "pairs.jsonl", Pair))
    texts = {s.segment_id: s.text for s in read_jsonl(run_dir / "segments.jsonl", Segment)}
    narrower = 0
    for pair in pairs:
        types = list(experts.get(pair.expert).question_types)
        supported = cues.supported(pair.expert, types, texts[pair.segment_id], pair.concepts)
        assert pair.question_type in supported, pair.expert
        narrower += len(supported) < len(types)
    assert narrower >= len(pairs) / 2  # most passages support only some of their expert's types
    pair = next(p for p in pairs if p.expert == "therapeutic")
    unsupported = next(t for t in experts.get("therapeutic").question_types
                       if t not in cues.supported("therapeutic", list(experts.get("therapeutic").question_types),
                                                  pair.answer, pair.concepts))
    wrong = pair.model_copy(update={"question_type": unsupported})
    cfg = load_config(config)

    async def revise():
        async with open_generation(cfg, open_run(cfg)) as gen:
            return await revise_pair(gen, wrong, "The question does not fit the passage.")

    revised = asyncio.run(revise())
    assert isinstance(revised, Pair) and revised.question_type != unsupported
    assert revised.generation == pair.generation


def test_synth_run_writes_the_comparison_after_a_model_swap(tmp_path, fake_llm, capsys):
    """The report stage of `synth run` compares the sets when a swap made a second one (a run
    with one set gets no compare.html: there is nothing to compare)."""
    config, run_dir = _run(tmp_path, 6, fake_llm.url, **PRICES)
    report_only = ["--skip", "ingest", "--skip", "generate", "--skip", "curate", "--skip", "export",
                   "--skip", "router", "--skip", "validate"]
    assert main(["generate", config, "--no-progress"]) == 0
    assert main(["judge", config]) == 0
    assert main(["run", config, *report_only]) == 0
    assert not (run_dir / "reports" / "compare.html").exists()
    assert main(["generate", config, "--set", "generator.model=other-model", "--no-progress"]) == 0
    assert main(["judge", config]) == 0
    assert main(["run", config, *report_only]) == 0
    html = (run_dir / "reports" / "compare.html").read_text()
    assert "other-model" in html and "fake-model" in html
