"""Automated checks (no LLM) and `synth check`."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from synth.cli import main
from synth.config import ChecksConfig, SafetyConfig
from synth.judge.checks import (
    ADVISORY_CHECKS,
    REDACTION_LABELS,
    CheckItem,
    check_report,
    formatting,
    is_question,
    lexical_overlap,
    question_length,
    run_checks,
)
from synth.judge.safety import SafetyPolicy
from synth.text import embeddings

CONFIG = ChecksConfig()
POLICY = SafetyPolicy.from_config(SafetyConfig())
ANSWER = ("People-pleasing often starts in childhood, when keeping a parent calm kept you safe. "
          "As an adult you say yes before you have even checked what you want. Start by pausing "
          "for one breath before you agree to anything, and notice what your body tells you.")
GOOD_Q = "Why do I always say yes to my parents before I even know what I want?"


def test_formatting_passes_a_real_question() -> None:
    result = formatting(GOOD_Q, ANSWER, CONFIG)
    assert result.passed and result.score == 1.0


@pytest.mark.parametrize("question, problem", [
    ("How do I talk to [TOPIC] about my childhood?", "template leftover '[TOPIC]'"),
    ("Why does [INSERT FEELING] come back every evening?", "template leftover '[INSERT FEELING]'"),
    ("{{ question }} about my parents?", "template leftover '{{'"),
    ("Question: why do I people-please so much?", "template leftover 'Question:'"),
    ("As an AI, how would you stop people-pleasing?", "AI disclaimer 'As an AI'"),
    ("I say yes to everything my parents ask", "not a question"),
])
def test_formatting_names_each_problem(question: str, problem: str) -> None:
    result = formatting(question, ANSWER, CONFIG)
    assert not result.passed and problem in result.reason
    assert result.score == pytest.approx(2 / 3, abs=1e-4)


def test_formatting_flags_leftovers_in_the_answer_but_allows_redaction_placeholders() -> None:
    assert not formatting(GOOD_Q, ANSWER + " {{ answer }}", CONFIG).passed
    assert formatting(GOOD_Q, "My friend [NAME] wrote to me. " + ANSWER, CONFIG).passed


@pytest.mark.parametrize("question", [
    "How do I tell [NAME] that I can't keep covering her shifts?",
    "Since the accident on [DATE] I freeze whenever a car brakes near me. Is that normal?",
    "We moved to [LOCATION] in spring and I still haven't made a single friend, what can I try?",
    "My counsellor at [ORGANIZATION] left; can I ask [PERSON] at [HOSPITAL] to see me instead?",
    "Could you call me back on [PHONE] or write to [EMAIL] about the waiting list?",
])
def test_a_redacted_real_question_is_no_template_leftover(question: str) -> None:
    result = formatting(question, ANSWER, CONFIG)
    assert result.passed, result.reason


def test_the_labels_synth_redacts_with_are_redaction_labels() -> None:
    from synth.ingest.pii import PLACEHOLDER

    assert set(PLACEHOLDER.values()) <= REDACTION_LABELS
    assert {"NAME", "EMAIL", "PHONE", "ADDRESS", "URL", "HANDLE"} <= REDACTION_LABELS  # ingest/clean.py
    # a placeholder and a leftover in one question: the leftover is named
    result = formatting("Why did [NAME] say [TOPIC] to me?", ANSWER, CONFIG)
    assert not result.passed and "'[TOPIC]'" in result.reason


@pytest.mark.parametrize("message", [
    "Panic attacks. From what age can a child have them. My nephew is seven and shakes before school.",
    "Grief group. For how long do the meetings usually run, I have never been to one.",
    "Pls give me some idea of where to start with my brother's gambling",
    "I would like to request further information on seasonal depression",
])
def test_a_preposition_before_the_question_word_or_a_plain_request_is_a_question(message: str) -> None:
    assert is_question(message)


def test_a_preposition_before_a_statement_is_no_question() -> None:
    assert not is_question("At the weekend I visited my aunt.")
    assert not is_question("In the end my sister drove me to the appointment.")


@pytest.mark.parametrize("question, score", [
    ("Why?", 0.25),
    ("Why now?", 0.5),
    ("Why do I freeze?", 1.0),
    (" ".join(["word"] * 120) + "?", 1.0),
    (" ".join(["word"] * 240) + "?", 0.5),
])
def test_question_length_is_a_score(question: str, score: float) -> None:
    result = question_length(question, CONFIG)
    assert result.score == score and result.passed is (score == 1.0)
    assert f"{len(question.split())} words" in result.reason
    assert "question length" not in formatting(question, ANSWER, CONFIG).reason


def test_a_long_real_message_is_kept_by_synth_check_with_a_low_length_score(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "available", lambda: False)
    story = (
        "I have been the one holding my family together since my father got sick last winter. "
        "I cook, I drive him to appointments, I answer my sister's calls at midnight, and I sort "
        "out the pharmacy when the prescriptions run late. My brother lives abroad and sends "
        "money, which helps, but he never sees the bad mornings. My partner is patient with me, "
        "though I can tell she misses the weekends we used to have, the long walks by the canal "
        "and the slow breakfasts. At work I smile through meetings and then cry in the car park. "
        "Last Friday a friend invited me to a concert and I said yes, then spent the whole "
        "evening checking my phone in case Dad needed something, and I barely heard the music. "
        "When I got home he was asleep and fine, and I felt stupid for worrying and guilty for "
        "going at all, both at once, which makes no sense to me. ")
    question = story + "How do I stop feeling guilty when I take one evening for myself?"
    assert len(question.split()) > CONFIG.question_max_words
    (checks,) = run_checks([(question, ANSWER)], CONFIG, POLICY)
    row = check_report(CheckItem(1, question, ANSWER), checks)
    length = row["checks"]["question_length"]
    assert length["passed"] is False and length["advisory"] is True and length["score"] < 1
    assert row["passed"] is True
    assert {name for name, c in row["checks"].items() if c["advisory"]} == set(ADVISORY_CHECKS)
    assert row["checks"]["formatting"]["advisory"] is False


def test_lexical_overlap_counts_content_words() -> None:
    result = lexical_overlap("Why do I keep saying yes to my parents?", ANSWER, CONFIG)
    assert result.passed and 0 < result.score <= 1
    unrelated = lexical_overlap("Which sourdough starter rises fastest?", ANSWER, CONFIG)
    assert unrelated.score == 0.0 and not unrelated.passed
    assert "0/" in unrelated.reason


def test_lexical_overlap_exact_share() -> None:
    result = lexical_overlap("parents childhood sourdough bicycle?", ANSWER, CONFIG)
    assert result.score == 0.5 and "2/4" in result.reason


@pytest.mark.skipif(not embeddings.available(), reason="embed extra not installed")
def test_alignment_separates_related_from_unrelated() -> None:
    items = [(GOOD_Q, ANSWER), ("What is the best way to bake sourdough bread at home?", ANSWER)]
    related, unrelated = [c.get("alignment") for c in run_checks(items, CONFIG, POLICY)]
    assert related.score is not None and unrelated.score is not None
    assert related.score > unrelated.score + 0.2
    assert related.passed and not unrelated.passed and not related.skipped


def test_alignment_is_skipped_without_the_embed_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "available", lambda: False)
    (checks,) = run_checks([(GOOD_Q, ANSWER)], CONFIG, POLICY)
    sim = checks.get("alignment")
    assert sim.skipped and sim.score is None and sim.passed
    assert sim.reason.startswith("skipped:") and "embed" in sim.reason
    assert [c.name for c in checks.results] == ["alignment", "lexical_overlap",
                                                 "safety_screen", "formatting", "question_length",
                                                 "harmful_request", "degenerate_question"]


def test_safety_check_in_run_checks() -> None:
    unsafe = ("What is the most painless way to end my life?", ANSWER)
    (checks,) = run_checks([unsafe], CONFIG, POLICY)
    safety = checks.get("safety_screen")
    assert not safety.passed and safety.score == 0.0
    assert "unsafe_question:self_harm_method" in safety.reason


def test_synth_check_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "available", lambda: False)  # keep the CLI test fast
    path = tmp_path / "pairs.jsonl"
    lines = [
        json.dumps({"id": "a", "question": GOOD_Q, "answer": ANSWER}),
        "{not json",
        json.dumps({"question": "How many pills would it take to overdose?", "answer": ANSWER}),
        json.dumps({"question": GOOD_Q}),
        json.dumps(["a", "list"]),
        "",
        json.dumps({"question": "", "answer": ANSWER}),
    ]
    path.write_text("\n".join(lines) + "\n")
    code = main(["check", str(path)])
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 3
    assert [r["line"] for r in rows] == [1, 3]
    assert rows[0]["id"] == "a" and rows[0]["passed"] is True
    assert rows[1]["passed"] is False and rows[1]["checks"]["safety_screen"]["passed"] is False
    assert rows[0]["checks"]["alignment"]["skipped"] is True
    assert set(rows[0]["checks"]) == {"alignment", "lexical_overlap", "safety_screen", "formatting",
                                      "question_length", "harmful_request", "degenerate_question"}
    assert [n for n, c in rows[0]["checks"].items() if c["advisory"]] == ["lexical_overlap",
                                                                         "question_length"]
    assert "line 2" in err and "not valid JSON" in err
    assert "line 4" in err and "field 'answer'" in err and "missing" in err
    assert "line 5" in err and "not a JSON object" in err
    assert "line 7" in err and "field 'question'" in err
    assert "Traceback" not in err


def test_synth_check_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "nope.jsonl")]) == 3
    assert "file not found" in capsys.readouterr().err


@pytest.mark.parametrize("message", [
    "I don't know what to do anymore. My parents are divorcing and I can't stop crying.",
    "My boyfriend left last month and I'm struggling to get out of bed",
    "Please tell me how to stop overthinking every message I send",
    "I need some advice about my teenage son, he won't talk to me",
    "Do you have information about panic attacks",
])
def test_a_request_for_help_without_a_question_mark_is_a_question(message: str) -> None:
    assert is_question(message)
    assert "not a question" not in formatting(message, ANSWER, CONFIG).reason


@pytest.mark.parametrize("statement", [
    "I say yes to everything my parents ask",
    "My sister and I went to the beach on Sunday.",
])
def test_a_plain_statement_is_not_a_question(statement: str) -> None:
    assert not is_question(statement)


@pytest.mark.parametrize("message", [
    "I'm so tired of pretending everything is fine. I just want someone to notice.",
    "I feel like I'm failing at everything lately",
    "I’m completely alone this Christmas and I hate it",  # a typographic apostrophe
    "Since the breakup I've been empty and numb most days",
])
def test_a_first_person_disclosure_of_distress_seeks_support(message: str) -> None:
    assert is_question(message)


@pytest.mark.parametrize("statement", [
    "Grounding works by bringing your attention back to what your senses notice.",
    "Many people feel anxious before a big change.",
    "Write down three things that went well today.",
    "The nervous system settles when the breath slows.",
])
def test_statements_about_others_or_instructions_are_still_not_questions(statement: str) -> None:
    assert not is_question(statement)
