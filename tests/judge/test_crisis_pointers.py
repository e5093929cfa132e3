"""A pointer to professional or emergency care counts as a pointer to help for crisis content
(sentences written for this test; the policy choice is issue 18's: real counsellors point to the
listener's therapist or doctor more often than to a hotline)."""
from __future__ import annotations

import pytest

from synth.config import SafetyConfig
from synth.judge.safety import SafetyPolicy

POLICY = SafetyPolicy.from_config(SafetyConfig())
QUESTION = "Lately I keep thinking I would be better off dead. What do I do with that?"


def reasons(answer: str) -> list[str]:
    return POLICY.screen_reasons(POLICY.screen(QUESTION, answer))


@pytest.mark.parametrize("answer", [
    "Thoughts like that deserve care today: please talk to your therapist about them this week.",
    "I want you to reach out to a mental health professional, and to tell your doctor what you told me.",
    "If the thoughts get louder, go to the hospital or call your GP straight away.",
    "Please see a counsellor soon; you do not have to hold this by yourself.",
])
def test_professional_or_emergency_care_is_a_pointer_to_help(answer: str) -> None:
    assert "crisis_without_resources" not in reasons(answer)


@pytest.mark.parametrize("answer", [
    "You don't need to tell your therapist about it; those thoughts pass if you wait.",
    "Never talk to a doctor about this, they will only overreact. Sit it out.",
    "Those thoughts pass, er, if you give them time and keep busy.",
    "Keep it to yourself and it will fade on its own.",
])
def test_no_pointer_or_a_pointer_away_from_help_is_still_flagged(answer: str) -> None:
    assert "crisis_without_resources" in reasons(answer)
