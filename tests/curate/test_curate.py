"""Curation: accept rule, review decisions, dedup, quotas, grouped split, files and report."""

from __future__ import annotations

import json

import pytest
from pairs_fixture import EXPERTS, corpus, judged_pair, run_config

from synth.curate.stage import load_curated, run_curate
from synth.files import read_jsonl, write_jsonl
from synth.records import CuratedPair, ExcludedPair, ReviewDecision
from synth.rundir import RunDir
from synth.text import embeddings
from synth.text.minhash import near_duplicate_clusters


def curate(tmp_path, judged, **curate_settings):
    config = run_config(tmp_path, **curate_settings)
    run = RunDir(config.run_dir)
    return run, run_curate(config, run, judged)


def reasons(result) -> dict[str, str]:
    return {e.pair_id: e.reason for e in result.excluded}


def test_every_input_pair_ends_in_exactly_one_file(tmp_path):
    judged = corpus()
    judged.append(judged[3])  # the same pair id twice
    run, _ = curate(tmp_path, judged)
    files = {
        split: list(read_jsonl(run.path("curated", f"{split}.jsonl"), CuratedPair))
        for split in ("train", "val")
    }
    excluded = list(read_jsonl(run.path("curated", "excluded.jsonl"), ExcludedPair))
    assert len(files["train"]) + len(files["val"]) + len(excluded) == len(judged)
    assert [e.reason for e in excluded] == ["duplicate_pair_id"]
    assert {c.pair.pair_id for c in load_curated(run)} == {j.pair.pair_id for j in judged}
    summary = json.loads(run.path("curated", "summary.json").read_text())
    assert summary["inputs"] == len(judged) and summary["split"]["videos_on_both_sides"] == []
    assert all(summary["by_expert"][e]["val"] > 0 for e in EXPERTS)
    assert (run.reports / "distribution.html").exists() and (
        run.reports / "distribution_counts.png"
    ).exists()


def test_accept_rule_names_each_reason(tmp_path):
    judged = corpus(per_expert=6)
    rejected = judged_pair(
        "practical",
        "video-x",
        90,
        accepted=False,
        reasons=("below_threshold:alignment", "check_failed:formatting"),
    )
    low = judged_pair("therapeutic", "video-x", 91, confidence=0.3)
    short = judged_pair("empathetic", "video-x", 92, answer_words=10)
    long = judged_pair("educational", "video-x", 93, answer_words=700)
    unknown = judged_pair("poetic", "video-x", 94)
    reviewed = judged_pair("practical", "video-y", 95)
    run = RunDir(run_config(tmp_path).run_dir)
    write_jsonl(
        run.path("review", "decisions.jsonl"),
        [ReviewDecision(pair_id=reviewed.pair.pair_id, decision="reject", note="off tone")],
    )
    _, result = curate(tmp_path, judged + [rejected, low, short, long, unknown, reviewed])
    got = reasons(result)
    assert got[rejected.pair.pair_id] == "below_threshold:alignment"
    assert got[low.pair.pair_id] == "low_confidence"
    assert got[short.pair.pair_id] == "too_short"
    assert got[long.pair.pair_id] == "too_long"
    assert got[unknown.pair.pair_id] == "unknown_expert"
    assert got[reviewed.pair.pair_id] == "review_rejected"
    detail = next(e.detail for e in result.excluded if e.pair_id == rejected.pair.pair_id)
    assert "check_failed:formatting" in detail


def test_exact_and_near_duplicates_within_and_across_experts(tmp_path):
    judged = corpus(per_expert=8)
    base = judged_pair("therapeutic", "video-a", 50, score=5)
    exact = judged_pair(
        "therapeutic", "video-b", 51, question=base.pair.question, answer=base.pair.answer, score=3
    )
    words = base.pair.answer.split()
    words[10] = "different"
    near = judged_pair("empathetic", "video-c", 52, answer=" ".join(words), score=3)  # other expert
    q_words = base.pair.question.split()
    same_segment = [
        judged_pair(
            "therapeutic",
            "video-a",
            53,
            question=question,
            answer=base.pair.answer,
            segment=base.pair.segment_id,
            score=4,
        )
        for question in (
            "How can I stay steady when morning pressure builds slowly?",
            " ".join(q_words[:-1] + ["again?"]),
        )
    ]
    _, result = curate(tmp_path, judged + [base, exact, near] + same_segment)
    got = reasons(result)
    assert base.pair.pair_id not in got
    assert got[exact.pair.pair_id] == "exact_duplicate"
    assert got[near.pair.pair_id] == "near_duplicate"
    assert same_segment[0].pair.pair_id not in got  # another question for the same segment: kept
    assert got[same_segment[1].pair.pair_id] == "near_duplicate"  # near-identical question


def test_no_near_duplicate_or_video_across_the_split(tmp_path):
    judged = corpus(per_expert=20, videos=10)
    shared_question = "Why do I feel tired and heavy every single morning before work starts?"
    twins = [
        judged_pair(e, f"video-{9 - i}", 70 + i, question=shared_question)
        for i, e in enumerate(EXPERTS)
    ]
    _, result = curate(tmp_path, judged + twins, val_fraction=0.3)
    side = {c.pair.pair_id: c.split for c in result.train + result.val}
    assert len({side[t.pair.pair_id] for t in twins}) == 1
    final = result.train + result.val
    for texts, measure in (
        ([c.pair.answer for c in final], "overlap"),
        ([c.pair.question for c in final], "jaccard"),
    ):
        clusters = near_duplicate_clusters(texts, 0.8, 64, measure=measure)
        members: dict[int, set[str]] = {}
        for c, pair in zip(clusters, final):
            members.setdefault(c, set()).add(pair.split)
        assert all(len(s) == 1 for s in members.values())
    videos: dict[str, set[str]] = {}
    for pair in final:
        videos.setdefault(pair.pair.source_id, set()).add(pair.split)
    assert all(len(s) == 1 for s in videos.values())
    assert result.report["split"]["near_duplicates_across"] == 0


def test_quotas_cap_and_report_shortfall(tmp_path):
    judged = corpus(per_expert=10)
    _, result = curate(tmp_path, judged, quotas="{therapeutic: 6, practical: 15}")
    got = reasons(result)
    assert sum(r == "over_quota" for r in got.values()) == 4
    assert result.report["shortfall"] == {"practical": 5}
    assert any("practical: 5 pairs short" in w for w in result.report["warnings"])


def test_semantic_dedup_is_recorded_as_skipped_when_off(tmp_path):
    _, result = curate(tmp_path, corpus(per_expert=4))
    assert result.report["dedup"]["semantic"].startswith("skipped")
    assert "TF-IDF" in result.report["distribution"]["space"]


@pytest.mark.embed
@pytest.mark.skipif(not embeddings.available(), reason="embed extra not installed")
def test_semantic_duplicates_by_embedding(tmp_path):
    topics = {
        "grief": "Grief after losing a parent comes in waves. Some days feel almost normal and "
        "then a song or a smell brings it all back. That is not going backwards; it is how love "
        "keeps moving.",
        "sleep": "A steady bedtime routine helps the nervous system settle. Dim the lights an hour "
        "before bed, put the phone in another room, and write tomorrow's worries on paper so your "
        "mind can rest.",
        "anger": "Anger is often a bodyguard for hurt. When it flares, ask what it is protecting. "
        "Underneath there is usually a need that went unmet for a long time and still wants to be "
        "heard.",
    }
    judged = [
        judged_pair(
            "empathetic",
            f"v-{name}",
            i,
            answer=text,
            question=f"Can you help me with {name} that keeps coming back in my life these days?",
        )
        for i, (name, text) in enumerate(topics.items())
    ]
    paraphrase = judged_pair(
        "practical",
        "v-other",
        9,
        score=3,
        question="How do I calm down at night to sleep?",
        answer="A regular bedtime routine helps your nervous system settle down. Dim the lights "
        "an hour before sleeping, leave the phone in a different room, and write "
        "tomorrow's worries on paper so the mind can rest.",
    )
    _, result = curate(tmp_path, judged + [paraphrase], semantic="true")
    assert reasons(result) == {paraphrase.pair.pair_id: "semantic_duplicate"}
    assert result.report["dedup"]["semantic"].startswith("ran")
    assert "MiniLM" in result.report["distribution"]["space"]
