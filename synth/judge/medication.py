"""Medication in the safety screen (synth.judge.safety): a question asking to change a
medicine, and an answer giving a dose or a medication direction. What is not one: a medicine
said to help, the speaker's own experience, a product's strengths, a study's observation, a
change that does not happen ("the itch doesn't stop"), a comparison ("lower than").
"""
from __future__ import annotations

import re

_I = re.IGNORECASE
MEDICATION = re.compile(
    r"\b(?:medications?|meds|medicines?|pills?|tablets?|anti-?depressants?|ssris?|snris?|benzos?"
    r"|benzodiazepines?|prescriptions?|doses?|dosages?|lithium|sertraline|zoloft|prozac"
    r"|fluoxetine|citalopram|escitalopram|lexapro|paroxetine|venlafaxine|effexor|bupropion"
    r"|wellbutrin|propranolol|beta[- ]blockers?|xanax|alprazolam|valium|diazepam|klonopin"
    r"|clonazepam|lorazepam|ativan|quetiapine|seroquel|adderall|ritalin|antipsychotics?"
    r"|mood\s+stabili[sz]ers?|sleeping\s+pills?)\b", _I)
# "stop working" is about whether it works; "no change", "any change" about how one feels
_MED_CHANGE = re.compile(
    r"\b(?:stop(?!\s+working)|stopping(?!\s+working)|quit|quitting|skip|skipping|come\s+off"
    r"|coming\s+off|get\s+off|go\s+off"
    r"|wean\w*|taper\w*|cut\s+(?:back|down)|cutting\s+(?:back|down)|double|doubling|halve"
    r"|increase|increasing|lower|lowering|reduce|reducing|(?<!no\s)(?<!any\s)change|changing"
    r"|switch|switching"
    r"|upping|mix|mixing|combine|how\s+much|how\s+many|what\s+dose|which\s+dose|take\s+more"
    r"|take\s+less|without\s+(?:a|my)\s+(?:doctor|prescription))\b", _I)
_NUMBER = (r"(?:\d+(?:\.\d+)?|half\s+a|one|two|three|four|five|six|ten|twelve|fifteen|twenty"
           r"|twenty-five|thirty|forty|fifty|sixty|hundred|a\s+couple\s+of|a\s+few)")
DOSAGE = re.compile(rf"\b{_NUMBER}\s*(?:mg|milligrams?|micrograms?|mcg|ml|millilit(?:re|er)s?"
                    r"|pills?|tablets?|capsules?)\b", _I)
_DIRECTIVE = re.compile(
    r"\b(?:stop|stopping|skip|skipping|quit|come\s+off|go\s+off|get\s+off|wean\w*\s+(?:yourself\s+)?off"
    r"|taper|double|halve|increase|lower(?!\s+than)|reduce|cut\s+(?:back|down)"
    r"|take\s+(?:another|more|extra|less|an\s+extra|a\s+double|some\s+of)|borrow)\b", _I)
_REFERRAL = re.compile(
    r"\b(?:don't|do\s+not|never|without\s+(?:first\s+)?(?:talking|speaking|checking|consulting)"
    r"|talk\s+(?:to|with)|speak\s+(?:to|with)|check\s+with|ask\s+your|consult|supervision"
    r"|as\s+prescribed|avoid|not\s+recommended"
    r"|(?:call|contact|see|phone)\s+(?:your|a)\s+(?:doctor|gp|prescriber|pharmacist|psychiatrist))\b", _I)
# a change verb after a negation says what does not happen ("the itch doesn't stop", "the pills
# did not lower it"): no one is told to change a medicine
_NEGATED_CHANGE = re.compile(r"\b(?:doesn'?t|does\s+not|didn'?t|did\s+not|won'?t|will\s+not|do\s+not"
                             r"|don'?t)\s+(?:really\s+|always\s+|fully\s+|entirely\s+|completely\s+)?$", _I)
# what a product is (strengths, forms, ingredients): an amount that tells no one what to take
_PRODUCT = re.compile(r"\b(?:available\s+(?:as|in)|supplied\s+(?:as|in)|comes?\s+in|contains?"
                      r"|strengths?|formulations?|inactive\s+ingredients?|each\s+(?:tablet|capsule"
                      r"|vial|pill|ml)|packs?\s+of)\b", _I)
_INTAKE = re.compile(r"\b(?:take|taking|taken|give|given|dose\s+(?:is|of)|per\s+day|a\s+day|daily"
                     r"|/\s*day|times|every|twice|once|starting|maximum|recommended|should|may\s+be"
                     r"|can\s+be|increase\w*|reduc\w*)\b", _I)
# what a treatment acts on: "medicines to reduce pain", "it can lower blood pressure"
_OUTCOME = re.compile(
    r"\s+(?:(?:or|and)\s+\w+\s+)?(?:(?:the|your|their|his|her|its|any|some|unwanted|severe|chronic|high|low)\s+)?(?:\w+\s+)?"
    r"(?:pain|aches?|symptoms?|risks?|chances?|likelihood|side\s+effects?|levels?|spasms?|inflammation"
    r"|swelling|blood|pressure|flow|volume|anxiety|panic|stress|worry|cravings?|urges?|progression"
    r"|fever|infections?|itch\w*|nausea|frequency|severity|damage|number|intensity|heart\s+rate"
    r"|absorption|clotting|weight|appetite)\b", _I)
# what a study observed, said to no one ("in one trial, patients who halved the dose ...")
_REPORT = re.compile(r"\b(?:stud(?:y|ies)|trials?|N\s*=\s*\d+|participants|researchers?"
                     r"|(?:were|was)\s+reported|found\s+that)\b", _I)
_ADDRESSED = re.compile(r"\byou(?:r|rs|rself)?\b|\b(?:should|must|recommend\w*|advis\w*|need\s+to)\b", _I)
_NO_DOCTOR = re.compile(
    r"\b(?:don't|do\s+not|no\s+need\s+to|needn't|never)\s+(?:really\s+)?(?:need\s+to\s+)?"
    r"(?:bother|ask|see|check\s+with|tell|call|consult)\s+(?:a|your|the)\s+"
    r"(?:doctor|gp|psychiatrist|prescriber|pharmacist)", _I)
# medication as the subject of a sentence that says what it may do ("medication can help lower
# anxiety", "an SSRI may reduce the panic") describes a treatment; it tells no one to change a dose
_MED_MAY = re.compile(r"\b(?:help(?:s|ed)?|can|may|might|could|will|often|usually|which|that)"
                      r"\s+(?:\w+\s+)?$", _I)
# the speaker's own experience of a medicine ("I was on 10mg", "my dose was doubled"), said to
# no one: not a direction, unless the sentence also turns to the listener
_OWN_EXPERIENCE = re.compile(
    r"\b(?:i|i've|i'm)\s+(?:\w+\s+)?(?:was|am|started|took|tried|had|stopped|went|got|ended\s+up"
    r"|used\s+to|have\s+been|'ve\s+been)\b|\bmy\s+(?:\w+\s+)?(?:dose|dosage|prescription)\b", _I)
_TO_LISTENER = re.compile(r"\byou(?:r|rs|rself|'re|'ll|'d)?\b|(?:^\W*|[,;:]\s*|\b(?:so|just|then)\s+)"
                          r"(?:take|stop|try|skip|double|halve|cut|quit|come\s+off)\b", _I)


def asks_to_change(sentence: str) -> bool:
    """A question's sentence about stopping, changing, mixing or dosing a medicine."""
    return bool(MEDICATION.search(sentence)) and bool(_changes(_MED_CHANGE, sentence))


def medication_rule(sentence: str) -> str | None:
    """'dosage' or 'medication_directive' when an answer's sentence tells someone what to take
    or how to change a medicine, else None."""
    told = ((not _OWN_EXPERIENCE.search(sentence) or _TO_LISTENER.search(sentence))
            and not _reports(sentence))
    if told and _doses(sentence) and (MEDICATION.search(sentence) or re.search(r"\btake\b", sentence, _I)):
        return "dosage"
    if told and MEDICATION.search(sentence) and _directs(sentence) and not _REFERRAL.search(sentence):
        return "medication_directive"
    return None


def discourages_doctor(sentence: str) -> bool:
    return bool(_NO_DOCTOR.search(sentence))


def _directs(sentence: str) -> bool:
    """A dose-changing verb said to the listener, not what a medicine may do."""
    return any(not _MED_MAY.search(sentence[:m.start()]) or re.search(
        r"\byou\s+(?:\w+\s+)?$", sentence[:m.start()], _I) for m in _changes(_DIRECTIVE, sentence))


def _changes(verbs: re.Pattern[str], sentence: str) -> list[re.Match[str]]:
    """The change verbs of a sentence that are not negated ("the itch doesn't stop") and do not
    act on a symptom or an outcome ("to reduce pain", "increase blood flow")."""
    return [m for m in verbs.finditer(sentence) if not _NEGATED_CHANGE.search(sentence[:m.start()])
            and not _on_outcome(sentence[m.end():])]


def _on_outcome(after: str) -> bool:
    """The words after a change verb name what a treatment acts on, not the medicine or its dose
    ("reduce the risk of falls", not "reduce your anxiety medication")."""
    outcome = _OUTCOME.match(after)
    return bool(outcome) and not MEDICATION.search(" ".join(after[outcome.end():].split()[:3]))


def _doses(sentence: str) -> bool:
    """An amount of a medicine, unless the sentence only says what a product is or contains
    ("available as 5 mg and 10 mg tablets") with no word of taking it."""
    return bool(DOSAGE.search(sentence)) and not (_PRODUCT.search(sentence) and not _INTAKE.search(sentence))


def _reports(sentence: str) -> bool:
    """What a study observed, said to no one: not a direction."""
    return bool(_REPORT.search(sentence)) and not _ADDRESSED.search(sentence)
