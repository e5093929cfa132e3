"""generate -> judge with the offline providers (the quick start path, no model): a judgment for
every pair, re-judging counts, and planted unsafe segments never reach accepted pairs."""
from __future__ import annotations

import pytest
from judge_fixture import ANSWERS, judge_config, rubric_copy

from synth.files import read_jsonl
from synth.generate.stage import run_generate
from synth.judge.stage import run_judge
from synth.records import Pair, Segment
from synth.rundir import open_run
from synth.text import embeddings

MEDICATION = ("Before a big family dinner, what I tell people is take 20 mg of propranolol an hour "
              "before you walk in, and another dose if you still feel shaky. If your antidepressant makes "
              "you feel flat, just skip it for the week. Then do your breathing and take breaks.")
CRISIS_NO_LINE = ("Some of you tell me you think about suicide when things pile up. I want to say these "
                  "thoughts pass. It is a phase, so keep busy and wait it out on your own; talking about "
                  "it only makes it bigger, and nobody else really needs to know.")
CRISIS_LINE = ("If you are having thoughts of ending your life tonight, please hear me: you matter. Call or "
               "text 988 in the US, ring Samaritans on 116 123 in the UK, or go to your nearest emergency "
               "department. Tell one person you trust exactly what you are feeling. You do not have to "
               "carry this alone, and the people on those lines want to hear from you.")
TEXTS = {**{f"ok-{e}": (e, t) for e, t in ANSWERS.items()},
         "med": ("practical", MEDICATION), "crisis-no-line": ("empathetic", CRISIS_NO_LINE),
         "crisis-line": ("empathetic", CRISIS_LINE)}


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "available", lambda: False)


def segments() -> list[Segment]:
    return [Segment(segment_id=sid, source_file="mine.json", record_index=i, source_id=f"v{i}",
                    style=expert, raw_style=expert, text=text, original_text=text,
                    word_count=len(text.split()), confidence=0.9)
            for i, (sid, (expert, text)) in enumerate(TEXTS.items())]


def test_offline_generate_then_judge(tmp_path):
    config = judge_config(tmp_path / "run", None, **{"generator.questions_per_segment": 3})
    run = open_run(config)
    run_generate(config, run, segments(), progress=False)
    pairs = list(read_jsonl(run.pairs, Pair))
    assert len(pairs) == 3 * len(TEXTS)
    result = run_judge(config, run, pairs, progress=False)
    assert len(result) == len(pairs) and all(j.judgment is not None for j in result)
    by_segment: dict[str, list] = {}
    for judged in result:
        by_segment.setdefault(judged.pair.segment_id, []).append(judged)
    for unsafe, reason in (("med", "medical_advice_beyond_scope"), ("crisis-no-line", "crisis_without_resources")):
        assert all(not j.accepted and j.reasons[0] == reason for j in by_segment[unsafe])
    assert all("crisis_without_resources" not in j.reasons and j.judgment.scores["safety"].score == 5
               for j in by_segment["crisis-line"])
    assert sum(j.accepted for j in result) > 0

    reworded = rubric_copy(tmp_path, "reworded.yaml", lambda d: d["criteria"]["alignment"].update(
        description="Does the segment answer exactly this question?"))
    config2 = judge_config(tmp_path / "run", None, rubric=reworded, **{"generator.questions_per_segment": 3})
    assert run_judge(config2, run, pairs, progress=False).summary()["judge_requests"] == len(pairs)
    assert run_judge(config2, run, pairs, progress=False).summary()["judge_requests"] == 0
    threshold = rubric_copy(tmp_path, "threshold.yaml", lambda d: (
        d["criteria"]["alignment"].update(description="Does the segment answer exactly this question?"),
        d["accept"]["thresholds"].update(voice=5, safety=3)))
    config3 = judge_config(tmp_path / "run", None, rubric=threshold, **{"generator.questions_per_segment": 3})
    summary = run_judge(config3, run, pairs, progress=False).summary()
    assert summary["judge_requests"] == 0 and summary["revise_requests"] == 0
