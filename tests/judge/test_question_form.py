"""A question is a request: statements of how the day went are not questions, a request for
help or a disclosure of distress is. The sentences below were written after the rule
(synth/judge/checks.py, `_DISCLOSES`) was changed and were not used to change it; the counts
are the figure the README gives for them."""
from __future__ import annotations

from synth.judge.checks import is_question

NOT_REQUESTS = [  # plain reports: nothing asked, no distress disclosed
    "I felt fine today.",
    "I wanted pasta for dinner, so we cooked together.",
    "I need to pick up the kids at four.",
    "I was at my cousin's wedding on Saturday.",
    "I have been walking to work since spring.",
    "I'd like the blue one, thanks.",
    "I feel rested after the long weekend.",
    "I wish the bus came more often in the evening.",
    "I have two brothers and a sister.",
    "I am reading a novel about sailors.",
    "I felt proud when my daughter rode her bike.",
    "I need a new phone charger.",
]
REQUESTS = [  # asks, with or without a question mark, or discloses distress
    "Could you explain why I freeze when my manager criticises me",
    "I'd really appreciate advice on talking to my dad about his drinking.",
    "Please help me understand why I keep pushing friends away",
    "I'm overwhelmed by the move and the new job at once.",
    "I can't cope with the noise in the flat any longer.",
    "I have been so lonely since my best friend moved abroad.",
    "Any tips for sleeping when my mind won't switch off",
    "I'm scared the panic will come back at the exam.",
    "I was wondering whether it's normal to still cry about my grandmother.",
    "I feel worthless at work and at home.",
    "Tell me how to say no without feeling guilty",
    "I need someone to talk to about the divorce.",
]


def test_statements_of_fact_are_not_questions() -> None:
    wrong = [s for s in NOT_REQUESTS if is_question(s)]
    assert len(wrong) <= 1, wrong  # measured: 0/12 (the rule before: 7/12)


def test_requests_and_disclosures_of_distress_are_questions() -> None:
    missed = [s for s in REQUESTS if not is_question(s)]
    assert len(missed) <= 2, missed  # measured: 1/12 missed (the old rule: 1/12)
