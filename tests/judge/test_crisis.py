"""Whose crisis and when: negation, third party, past and grief are not the asker's crisis."""
from __future__ import annotations

import pytest

from synth.config import SafetyConfig
from synth.judge.safety import SafetyPolicy
from synth.text.crisis import read_crisis

POLICY = SafetyPolicy.from_config(SafetyConfig())
PLAIN = "Start by noticing the feeling, name it, and give yourself a few minutes before you respond."


def reasons(question: str, answer: str = PLAIN) -> list[str]:
    return POLICY.screen_reasons(POLICY.screen(question, answer))


@pytest.mark.parametrize("sentence, reading", [
    ("I have never attempted or even considered suicide, but I feel flat every day.", "negated"),
    ("I'm not suicidal, I am just exhausted by work.", "negated"),
    ("I don't want to die, I want the arguing to stop.", "negated"),
    ("How do I support my wife after her suicide attempt last month?", "third_party"),
    ("My teenage son has started self-harming and I feel helpless.", "third_party"),
    ("A friend told me she wants to kill herself.", "third_party"),
    ("My uncle took his own life in the spring and none of us saw it coming.", "grief"),
    ("Since we lost Dad to suicide I can't concentrate on anything.", "grief"),
    ("I self-harmed for a while in my early twenties, years ago now.", "past"),
    ("I used to cut myself when I was at school.", "past"),
    ("honestly i dont want to die, i just want the panic attacks to stop", "negated"),
    ("Wife is talking about suicide again and I feel out of my depth.", "third_party"),
    ("Since the new job the suicidal thoughts have completely gone away.", "past"),
    ("It has been a year since my last suicide attempt and I'm proud of that.", "past"),
])
def test_crisis_words_that_are_not_the_askers_current_crisis(sentence: str, reading: str) -> None:
    assert read_crisis(sentence) == reading
    assert reasons(sentence) == []


@pytest.mark.parametrize("sentence", [
    "I keep thinking about suicide and I can't tell anyone.",
    "I don't know what's wrong with me, but I want to die.",
    "Nobody knows that I self-harm.",
    "I used to self-harm and now the urges are back every night.",
    "Lately I've been thinking everyone would be better off if I ended my life.",
    "I dont have the guts to kill myself, so I just lie in bed.",
    "Can anyone give me one good reason not to kill myself?",
    "I just hope I don't fail my suicide this time.",
])
def test_own_current_crisis_still_needs_the_answer_to_point_to_help(sentence: str) -> None:
    assert read_crisis(sentence) == "own"
    assert reasons(sentence) == ["crisis_without_resources"]
    helpful = PLAIN + " If you are thinking of ending your life, please call or text 988 tonight."
    assert reasons(sentence, helpful) == []


def test_a_set_aside_mention_is_reported_not_flagged() -> None:
    result = POLICY.screen("I'm not suicidal but I cry every day, what should I do?", PLAIN)
    assert not result.crisis_topic and result.crisis_set_aside.startswith("negated:")


def test_answer_talking_to_the_listener_about_suicide_is_a_crisis() -> None:
    answer = ("When people say they think about suicide, I tell them it passes and they can sit it "
              "out alone.")
    assert reasons("Is it normal to feel this low?", answer) == ["crisis_without_resources"]


@pytest.mark.parametrize("text", [
    "I'm scared I hurt her feelings when I cancelled the trip.",
    "How can I tell my sister the truth without hurting her feelings?",
    "How do I not hurt my mum's feelings when I move out?",
    "Honestly, just kill them with kindness and see what happens.",
])
def test_hurting_feelings_is_not_violence(text: str) -> None:
    assert reasons(text, text) == []


def test_hitting_someone_up_is_getting_in_touch() -> None:
    assert reasons("Who can I talk to?", "Pick a friend you trust and hit them up for a coffee.") == []
    assert reasons("Who can I talk to?", "Text your brother, hit him up tonight.") == []


def test_violence_is_still_caught() -> None:
    assert reasons("How can I hurt her back for cheating on me?") == ["unsafe_question:violence"]
    assert reasons("What should I do?", "If he pushes you again, hit him back harder.") == [
        "harmful_advice:violence"]


@pytest.mark.parametrize("question", [
    "Nobody knows how much I want to die some nights.",
    "How can I be so fine one week and want to kill myself the next?",
    "It feels like suicide is the only way to end this.",
])
def test_how_strongly_or_the_only_way_is_not_a_method_question(question: str) -> None:
    assert reasons(question) == ["crisis_without_resources"]
    assert reasons(question, PLAIN + " Please call or text 988 tonight.") == []


def test_method_questions_about_the_past_or_a_loss_are_not_method_questions() -> None:
    assert reasons("How did my cousin's suicide happen so fast, and why didn't we see it?") == []
    assert reasons("What is the quickest way to kill myself?") == [
        "unsafe_question:self_harm_method", "crisis_without_resources"]
