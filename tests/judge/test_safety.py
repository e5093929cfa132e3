"""The safety screen and policy keep and drop the right planted cases."""
from __future__ import annotations

import pytest

from synth.config import SafetyConfig
from synth.errors import ConfigError
from synth.judge.safety import SafetyPolicy, screen
from synth.records import CriterionScore, Judgment, SafetyFlag

CRISIS_WITH_LINE = (
    "If some of you are having thoughts of ending your life right now, I want you to hear that "
    "you matter. Please reach out tonight: in the US you can call or text 988, in the UK you can "
    "ring Samaritans on 116 123, or go to your nearest emergency department.")
CRISIS_WITHOUT_LINE = (
    "Sometimes people tell me they have thought about suicide, and I just want to say that it "
    "passes, it is a phase, and you can wait it out on your own.")
MEDICATION_STOPPING = (
    "Here is what I tell people about the holidays. If your antidepressant makes you feel flat, "
    "just skip it for a week. You don't need to bother your doctor with it.")
DOSAGE = "Before a big family dinner, take 40 mg of propranolol and another dose at dessert."
RESPONSIBLE_MEDICATION = ("Please never stop your medication without talking to your doctor first; "
                          "that is a conversation for your prescriber, not for me.")
PLAIN = "Start by noticing when you say yes automatically, and pause for one breath before you answer."

POLICY = SafetyPolicy.from_config(SafetyConfig())


def reasons(question: str, answer: str, policy: SafetyPolicy = POLICY) -> list[str]:
    return policy.screen_reasons(policy.screen(question, answer))


def test_crisis_segment_with_crisis_line_is_kept() -> None:
    result = POLICY.screen("I have been having dark thoughts lately, what should I do?", CRISIS_WITH_LINE)
    assert result.crisis_topic and result.crisis_resources
    assert POLICY.screen_reasons(result) == []


def test_crisis_segment_without_crisis_line_is_dropped() -> None:
    assert reasons("Is it normal to think about suicide?", CRISIS_WITHOUT_LINE) == ["crisis_without_resources"]


def test_medication_stopping_answer_is_excluded() -> None:
    result = POLICY.screen("How do I get through the holidays?", MEDICATION_STOPPING)
    assert {"medication_directive", "doctor_discouraged"} <= result.rules()
    assert POLICY.screen_reasons(result) == ["medical_advice_beyond_scope"]
    quotes = [f.quote for f in result.findings]
    assert "If your antidepressant makes you feel flat, just skip it for a week." in quotes


def test_dosage_advice_is_excluded() -> None:
    assert reasons("How do I calm down before a family dinner?", DOSAGE) == ["medical_advice_beyond_scope"]


def test_responsible_medication_mention_is_not_advice() -> None:
    assert reasons("Should I talk to someone about how I feel?", RESPONSIBLE_MEDICATION) == []


@pytest.mark.parametrize("question", [
    "What is the most painless way to end my life?",
    "How many pills would it take to overdose?",
    "How do I hide my cuts from my parents?",
    "Which pills are fatal if I want to die?",
])
def test_self_harm_method_question_is_unsafe(question: str) -> None:
    assert "unsafe_question:self_harm_method" in reasons(question, PLAIN)


@pytest.mark.parametrize("question", [
    "Should I stop taking my antidepressants now that I feel better?",
    "Can I skip my meds over the holidays?",
    "How much propranolol should I take before a party?",
])
def test_medication_question_is_unsafe(question: str) -> None:
    assert reasons(question, PLAIN) == ["unsafe_question:medication"]


@pytest.mark.parametrize("question", [
    "Does medication stop working after a few years?",
    "Six weeks on sertraline and no change in my mood at all, is that normal?",
    "I haven't noticed any change since starting Prozac, does it take longer?",
])
def test_asking_whether_a_medicine_works_is_not_a_medication_question(question: str) -> None:
    assert reasons(question, PLAIN) == []


def test_the_speakers_own_medicine_is_not_a_direction() -> None:
    for answer in ("When I was on sertraline I started at 25 mg and it made me sleepy for a week.",
                   "My dose was doubled after a year because it had stopped helping.",
                   "I only took half a tablet the first few days."):
        assert reasons("Is it normal to feel tired on antidepressants?", answer) == [], answer
    for told in ("I take 20 mg of propranolol before a talk, and you should take the same.",
                 "I had the same with sertraline, so just skip it for a week."):
        assert reasons("How do I calm down before a talk?", told) == ["medical_advice_beyond_scope"], told


@pytest.mark.parametrize("question", [
    "How do I stop thinking about hurting myself? I called a helpline once.",
    "How can I support a friend who talks about suicide?",
])
def test_help_seeking_crisis_question_is_not_a_method_question(question: str) -> None:
    result = POLICY.screen(question, CRISIS_WITH_LINE)
    assert "self_harm_method" not in result.rules() and result.crisis_topic
    assert POLICY.screen_reasons(result) == []


def test_no_false_alarm_on_everyday_words() -> None:
    answer = ("Maybe your parent was someone who was hurt themselves. Punch a pillow, have a cold "
              "drink, and cut your to-do list down to three things.")
    result = screen("Why am I so angry at my mum?", answer)
    assert result.findings == () and not result.crisis_topic


def test_violence_and_risky_confrontation() -> None:
    assert reasons("How can I get back at my dad for what he did?", PLAIN) == ["unsafe_question:violence"]
    advice = "Go round there and confront him alone, tonight, and tell him what he did."
    assert reasons("What should I do about my abusive father?", advice) == ["harmful_advice:risky_confrontation"]


def _judgment(safety: int, flags: list[SafetyFlag] | None = None) -> Judgment:
    return Judgment(pair_id="p", rubric_id="r", rubric_version="1", rubric_hash="h", judge_model="m",
                    status="ok", scores={"safety": CriterionScore(score=safety, rationale="x")},
                    safety_flags=flags or [])


def test_crisis_pair_needs_the_judge_safety_criterion() -> None:
    result = POLICY.screen("What should I do?", CRISIS_WITH_LINE)
    assert POLICY.judgment_reasons(result, _judgment(5)) == []
    assert POLICY.judgment_reasons(result, _judgment(3)) == ["crisis_failed_safety_criterion"]
    plain = POLICY.screen("What should I do?", PLAIN)
    assert POLICY.judgment_reasons(plain, _judgment(3)) == []  # not crisis: the threshold decides


def test_judge_flags_exclude_with_named_kind() -> None:
    flags = [SafetyFlag(kind="medical_advice", quote="x"), SafetyFlag(kind="abuse", quote="y")]
    result = POLICY.screen("What should I do?", PLAIN)
    assert POLICY.judgment_reasons(result, _judgment(5, flags)) == ["judge_flag:abuse", "judge_flag:medical_advice"]
    only_medical = SafetyPolicy.from_config(SafetyConfig(exclude_judge_flags=["medical_advice"]))
    assert only_medical.judgment_reasons(result, _judgment(5, flags)) == ["judge_flag:medical_advice"]


def test_policy_switches_and_extra_resources() -> None:
    relaxed = SafetyPolicy.from_config(SafetyConfig(exclude_medical_advice=False))
    assert reasons("How do I calm down?", DOSAGE, relaxed) == []
    local = SafetyPolicy.from_config(SafetyConfig(crisis_resources=[r"\bMindline\b"]))
    answer = "If you are thinking about suicide, please call Mindline now, they are there for you."
    assert reasons("What do I do?", answer) == ["crisis_without_resources"]
    assert reasons("What do I do?", answer, local) == []


def test_bad_resource_regex_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"safety\.crisis_resources\.1"):
        SafetyPolicy.from_config(SafetyConfig(crisis_resources=["ok", "(unclosed"]))


# The false-flag classes of issue 18, each with sentences written for this test.
@pytest.mark.parametrize("sentence", [
    "After a week like that, cut yourself some slack and rest this weekend.",
    "I was burning myself out trying to keep everyone at work happy.",
    "We were killing ourselves laughing at the wedding speeches.",
    "Cut yourself a break; nobody gets every parenting call right.",
])
def test_idioms_are_not_a_crisis_in_either_stage(sentence: str) -> None:
    from synth.ingest.flags import is_crisis
    from synth.text.crisis import read_crisis

    assert read_crisis(sentence) is None and not is_crisis(sentence)
    assert reasons("How do I slow down?", sentence) == []


@pytest.mark.parametrize("answer", [
    "Plenty of tired parents are scared they might hit them when the toddlers scream for hours.",
    "If your partner ever tried to hurt her, that would be abuse and worth reporting.",
    "The urge to slap him in that moment makes sense, and noticing it is the first step.",
])
def test_a_conditional_or_feared_act_is_not_advice_to_do_it(answer: str) -> None:
    assert reasons("What do I do with this anger?", answer) == []


def test_advice_to_hit_back_is_still_violence() -> None:
    assert "harmful_advice:violence" in reasons("He keeps shoving me.", "If he shoves you, hit him back harder.")


@pytest.mark.parametrize("answer", [
    "For some people, medication can help reduce the worst of the panic.",
    "An antidepressant may lower the intensity of low moods while therapy does the longer work.",
])
def test_saying_a_medicine_may_help_is_not_a_direction(answer: str) -> None:
    assert reasons("Does anything help with panic?", answer) == []


def test_a_direction_to_the_listener_is_still_medical_advice() -> None:
    answer = "You can stop your antidepressant whenever you feel like it."
    assert "medical_advice_beyond_scope" in reasons("Can I feel better?", answer)


def test_sentences_glued_without_a_space_are_read_apart() -> None:
    glued = "Stop blaming yourself for the bad days.Your medication is doing its job, give it time."
    assert reasons("Why do I still feel low?", glued) == []
    assert reasons("Why do I still feel low?", glued.replace(".Your", ". Your")) == []


def test_lexical_overlap_is_a_score_not_a_veto_in_synth_check() -> None:
    """Precision first: a weak signal (overlap: AUC 0.83) is shown, it does not reject."""
    from synth.config import ChecksConfig
    from synth.judge.checks import ADVISORY_CHECKS, CheckItem, check_report, run_checks

    question = "What helps when my thoughts race at night before an exam?"
    answer = "Slow breathing and a short wind-down routine can settle a busy mind before sleep."
    (checks,) = run_checks([(question, answer)], ChecksConfig(), POLICY)
    row = check_report(CheckItem(1, question, answer), checks)
    assert "lexical_overlap" in ADVISORY_CHECKS and row["checks"]["lexical_overlap"]["passed"] is False
    assert row["passed"] is all(r.passed for r in checks.results if r.name != "lexical_overlap")
