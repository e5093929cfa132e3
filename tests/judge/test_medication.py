"""Precision of the medication and overdose rules (issue 18 item 1): what a product is, what a
study saw, a change that does not happen, a comparison, a pointer to the doctor, a label's
"overdosage" and a pharmacy's judgement are not directions or crises; the directions still are.
Every sentence here was written for this test."""
from __future__ import annotations

import pytest

from synth.config import SafetyConfig
from synth.judge.medication import asks_to_change, medication_rule
from synth.judge.safety import SafetyPolicy
from synth.text.crisis import mentions_crisis, read_crisis

POLICY = SafetyPolicy.from_config(SafetyConfig())
QUESTION = "Is it normal to feel foggy in the first month of treatment?"


def reasons(question: str, answer: str) -> list[str]:
    return POLICY.screen_reasons(POLICY.screen(question, answer))


@pytest.mark.parametrize("sentence", [
    "Sertraline comes in 25 mg, 50 mg and 100 mg tablets, and a liquid for people who cannot swallow them.",
    "Each capsule contains 20 mg of fluoxetine along with gelatine and a colouring agent.",
    "The tablets are available in three strengths: 25, 50 and 100 mg.",
])
def test_what_a_product_is_tells_no_one_what_to_take(sentence: str) -> None:
    assert medication_rule(sentence) is None
    assert reasons(QUESTION, sentence) == []


@pytest.mark.parametrize("sentence", [
    "The tablets come in 50 mg; take two of them before bed tonight.",
    "Each tablet contains 10 mg, so take three if the first one does nothing.",
    "Take 40 mg of propranolol an hour before the interview.",
])
def test_an_amount_to_take_is_still_a_dose(sentence: str) -> None:
    assert medication_rule(sentence) == "dosage"


@pytest.mark.parametrize("sentence", [
    "In one small trial, people who joined a walking group were able to cut down on their sleeping pills.",
    "Researchers found that patients who cut down their antidepressant dose slept better.",
])
def test_what_a_study_saw_is_not_a_direction(sentence: str) -> None:
    assert medication_rule(sentence) is None


def test_a_study_said_to_the_listener_is_still_a_direction() -> None:
    sentence = "Studies show you should cut down your antidepressant over the winter."
    assert medication_rule(sentence) == "medication_directive"


@pytest.mark.parametrize("sentence", [
    "The medication helps, but the worry doesn't stop overnight.",
    "Side effects of the newer antidepressants are lower than those of the older ones.",
    "Avoid stopping an antidepressant suddenly; coming off too fast can feel like the flu.",
    "Call your doctor if you feel worse in the weeks after you stop taking the medication.",
])
def test_no_change_a_comparison_or_a_pointer_to_the_doctor_is_not_a_direction(sentence: str) -> None:
    assert medication_rule(sentence) is None


@pytest.mark.parametrize("sentence", [
    "Lower your dose of lithium tonight and see how you feel.",
    "Just stop the tablets for a week over the holidays.",
    "Skip your sertraline on the mornings you feel fine.",
])
def test_directions_are_still_caught(sentence: str) -> None:
    assert medication_rule(sentence) == "medication_directive"


def test_a_medicine_that_does_not_stop_a_symptom_is_no_question_about_stopping_it() -> None:
    assert not asks_to_change("My pills do not stop the nightmares, is that common?")
    assert asks_to_change("Can I stop my pills once the nightmares are gone?")
    assert asks_to_change("I can't stop taking my sleeping pills, what now?")
    assert asks_to_change("How much lithium is too much?")


@pytest.mark.parametrize("sentence", [
    "Too much paracetamol is dangerous, and overdosage can damage the liver within a day.",
    "The leaflet warns of drowsiness in overdosage.",
])
def test_a_labels_overdosage_is_not_a_crisis(sentence: str) -> None:
    assert not mentions_crisis(sentence) and read_crisis(sentence, speaker=False) is None


def test_a_pharmacys_judgement_of_a_prescription_is_someone_elses_words() -> None:
    question = "The pharmacist refused my prescription, saying it was an overdose of lithium. Who is right?"
    assert read_crisis(question.split(". ")[0], speaker=True) == "third_party"
    screen = POLICY.screen(question, "A prescriber and a pharmacist can read a dose differently.")
    assert not screen.crisis_topic


@pytest.mark.parametrize("sentence", [
    "I took an overdose last night and I'm scared to tell anyone.",
    "I keep thinking about taking an overdose when everyone is asleep.",
    "I overdosed on my tablets again this week.",
])
def test_an_overdose_of_ones_own_is_still_a_crisis(sentence: str) -> None:
    assert read_crisis(sentence, speaker=True) == "own"
    assert "crisis_without_resources" in reasons(sentence + " What should I do?",
                                                  "Try to rest and drink some water.")


@pytest.mark.parametrize("sentence", [
    "Your doctor may suggest medicines to reduce the pain and the swelling in your knee.",
    "Some people are given tablets to increase blood flow or reduce or ease muscle spasms.",
])
def test_a_treatment_acting_on_a_symptom_is_not_a_change_of_medicine(sentence: str) -> None:
    assert medication_rule(sentence) is None


def test_a_question_whether_a_medicine_eases_a_symptom_is_no_question_about_changing_it() -> None:
    assert not asks_to_change("Will my medication reduce the panic attacks over time?")
    assert asks_to_change("Should I reduce my anxiety medication before the exams?")
    assert asks_to_change("Can I cut down the number of tablets I take each night?")
    assert medication_rule("Reduce your anxiety medication to half a tablet from tomorrow.") is not None
