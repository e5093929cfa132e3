"""Named checks for degenerate questions (issue 17 item 7): a run copied from the segment, a
repeated phrase, the prompt's plan text echoed back. Each fails only on the extreme case a real
question does not reach (bench/bench_degenerate.py measures that on real human questions); a
weaker signal is a score. The degenerate texts here are written for the test, in the shapes the
issue reports from SmolLM2-135M."""
from __future__ import annotations

from pathlib import Path

import pytest
from judge_fixture import ANSWERS, QUESTIONS

from synth.config import ChecksConfig, SafetyConfig
from synth.judge.checks import run_checks
from synth.judge.degenerate import (
    COPY_MAX_WORDS,
    degenerate_question,
    longest_copied_run,
    plan_ngrams,
    words,
)
from synth.judge.safety import SafetyPolicy
from synth.text import embeddings

REPO = Path(__file__).resolve().parents[2]
PLAN = plan_ngrams(str(REPO / "prompts"))
PASSAGE = ANSWERS["practical"] + " " + ANSWERS["therapeutic"]


@pytest.mark.parametrize("question", [*QUESTIONS.values(),
                                      # the segment's first sentence, copied: real model questions do this
                                      "Here is a simple boundary script you can try this week, but what if "
                                      "my mother just keeps calling?",
                                      "I'm a nurse working night shifts and my inner voice: says I'm lazy. "
                                      "How do I quiet it?",
                                      "I hate myself. I hate myself. I hate myself. Why can't I stop?"])
def test_real_shaped_questions_pass(question: str) -> None:
    result = degenerate_question(question, PASSAGE, PLAN)
    assert result.passed, result.reason


def test_a_copied_first_sentence_is_a_score_not_a_veto() -> None:
    question = "Here is a simple boundary script you can try this week, but what if it fails?"
    result = degenerate_question(question, PASSAGE, PLAN)
    assert result.passed and result.score < 0.5 and result.details["copied_run"] == 11


def test_a_pasted_passage_fails() -> None:
    result = degenerate_question(PASSAGE[:400] + "?", PASSAGE, PLAN)
    assert not result.passed and result.score == 0 and result.reason.startswith("copied_run:")
    assert result.details["copied_run"] >= COPY_MAX_WORDS


def test_a_phrase_looped_to_700_characters_fails() -> None:
    loop = ("How do I say no to my sister? " * 30)[:700]
    result = degenerate_question(loop, PASSAGE, PLAN)
    assert not result.passed and result.reason.startswith("repeated_phrase:")


@pytest.mark.parametrize(("question", "echo"), [
    ("asker: I'm a new mom; voice: first person, direct. How do I set a boundary?", "plan labels"),
    ("How do I set a boundary, first person, a little unsure and searching for words?", "prompt text"),
    ("Why do I freeze? one or two sentences, 15 to 35 words", "prompt text"),
    ("Do not copy the passage's distinctive phrases; how do I stop people pleasing?", "prompt text"),
])
def test_plan_text_echoed_back_fails(question: str, echo: str) -> None:
    result = degenerate_question(question, PASSAGE, PLAN)
    assert not result.passed and f"plan_echo: {echo}" in result.reason


def test_personas_and_offline_templates_are_not_plan_text() -> None:
    assert ("nurse", "working", "night", "shifts") not in PLAN
    assert not any(p[:4] == ("why", "do", "i", "feel") for p in PLAN)  # prompts/offline questions


def test_longest_copied_run() -> None:
    assert longest_copied_run(words("a b c x d e f g"), words("d e f g a b c")) == 4
    assert longest_copied_run([], words("a b")) == 0


def test_run_checks_names_the_check_and_the_accept_rule_can_require_it(monkeypatch) -> None:
    monkeypatch.setattr(embeddings, "available", lambda: False)
    policy = SafetyPolicy.from_config(SafetyConfig())
    good, pasted = (QUESTIONS["practical"], PASSAGE), (PASSAGE[:400] + "?", PASSAGE)
    checks = run_checks([good, pasted], ChecksConfig(), policy, plan=PLAN)
    assert checks[0].get("degenerate_question").passed and not checks[1].get("degenerate_question").passed
    from synth.judge.rubric import load_rubric

    rubric = load_rubric(REPO / "judges/default.yaml")
    assert "degenerate_question" in rubric.accept.required_checks
