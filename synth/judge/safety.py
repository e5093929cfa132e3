"""The safety screen (no LLM) and the safety policy applied to every judged pair.

The screen reads a question and its answer sentence by sentence and reports findings, each
with the rule that fired, the flag kind and the quoted sentence (medication rules:
synth.judge.medication). The policy (config `safety`) turns findings and the judge's safety
score into named exclusion reasons:

  unsafe_question:self_harm_method   the question asks how to hurt or kill oneself
  unsafe_question:medication         the question asks about stopping/changing/dosing medication
  unsafe_question:violence           the question asks how to hurt someone
  medical_advice_beyond_scope        the answer gives dosage or medication directions
  crisis_without_resources           crisis content (suicide, self-harm) with no pointer to help
  crisis_failed_safety_criterion     crisis content the judge did not rate safe enough
  harmful_advice:<rule>              violence, a risky step (confronting an abuser alone) or
                                     advice close in meaning to an unsafe exemplar (unsafe_advice)
  judge_flag:<kind>                  the judge flagged a sentence (self_harm, medical_advice, ...)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Literal

import numpy as np

from synth.config import SafetyConfig
from synth.errors import ConfigError
from synth.judge.advice import AdviceHit, bank_texts, load_bank, screen_passages
from synth.judge.medication import asks_to_change, discourages_doctor, medication_rule
from synth.judge.vectors import matrix
from synth.records import Judgment, SafetyFlag, SafetyFlagKind
from synth.text.crisis import Reading, read_crisis
from synth.text.sentences import sentences

Where = Literal["question", "answer"]

_I = re.IGNORECASE
RESOURCES = re.compile(
    r"\bcrisis\s+(?:text\s+)?(?:line|service|team|cent(?:re|er))s?\b|\b(?:hot|help)\s?lines?\b"
    r"|\blifeline\b|\bsamaritans\b|\b988\b|\b116\s?123\b|\b741741\b|\bsuicide\s+prevention\b"
    r"|\bcall(?:ing)?\s+(?:911|999|112|000)\b|\bemergency\s+(?:department|room|services|number)\b"
    r"|\bA&E\b"
    # a pointer to professional or emergency care is a pointer to help (policy: issue 18)
    r"|(?<!n't\s)(?<!not\s)(?<!never\s)(?<!no\sneed\sto\s)(?<!n't\sneed\sto\s)(?<!not\sneed\sto\s)"
    r"\b(?:talk|talking|speak|reach(?:ing)?\s+out|turn|get\s+in\s+touch|call|ring|contact|see|seeing|tell|book"
    r"|go)\b[^.?!]{0,40}?\b(?:therapist|counsell?or|counselor|doctor|GP|psychiatrist|psychologist"
    r"|physician|mental\s+health\s+(?:professional|team|service|provider)s?|(?:a|the)\s+professional"
    r"|hospital)\b", _I)
# not a method: "how much I want to die" (how strongly), "how can I be so low", "the only way to"
_METHOD_CUE = re.compile(
    r"\bhow\s+(?:to|do|does|(?:can|could)(?!\s+i\s+be\b)|would|should|long|deep"
    r"|(?:many|much)(?!\s+(?:i|i'm|you|we|it|this|that)\b))\b|(?<!only\s)\bways?\s+to\b"
    r"|\bmethods?\b|\b(?:best|easiest|quickest|fastest|surest)\b|\bpainless\w*|\bleast\s+painful\b"
    r"|\blethal\b|\bfatal\b|\bwhich\s+(?:pills|drugs|medications?)\b"
    r"|\bwithout\s+anyone\s+(?:noticing|knowing)\b", _I)
_HELP_CUE = re.compile(
    r"\b(?:stop|stopping|not|avoid|resist|cope|coping|deal|dealing|get\s+through|support|help"
    r"|talk|tell|urges?|thoughts?|feelings?|why|someone\s+who|friend|partner|child|son|daughter)\b",
    _I)
_CONCEAL = re.compile(r"\b(?:hide|hiding|cover(?:ing)?\s+up)\b[^.?!]{0,30}\b(?:cuts|scars|marks|burns"
                      r"|self[- ]?harm)\b", _I)
# "her" is an object only when nothing follows it that it could own ("hurt her feelings")
_HER = r"her(?=\s*(?:[.,;:!?]|$|\s+(?:back|again|hard|first|if|when|until|and|or|so|before|badly)\b))"
_SPARED = r"(?!\s+with\s+kindness)"
_HARM_OTHERS_Q = re.compile(
    r"\b(?:how\s+(?:do|can|could|should)\s+i|ways?\s+to|help\s+me)\b[^?.!]{0,40}"
    r"(?<!not\s)(?<!never\s)\b(?:hurt|kill|hit|beat\s+up|punch|stab|poison|attack"
    rf"|get\s+revenge\s+on|get\s+back\s+at)\s+(?:him|them|{_HER}|my\s+\w+\b(?!['’]s)"
    rf"|someone|people)\b{_SPARED}", _I)
# "hit them up" is getting in touch
_VIOLENCE_A = re.compile(rf"\b(?:hit|beat|punch|slap|stab|kill|hurt|attack)\s+(?:him|them|{_HER})"
                         rf"{_SPARED}(?!\s+up\b)(?:\s+back)?\b"
                         r"|\b(?:get|buy|carry|use)\s+(?:a\s+)?(?:gun|knife|weapon)\b", _I)
# a conditional, feared or imagined act is not advice to do it: "if he hit them", "worried I
# might hurt them", "the urge to slap him": the cue comes before the act in the same clause
_HYPOTHETICAL = re.compile(
    r"\b(?:if|whether|unless|when(?:ever)?|might|may|could|would|afraid|scared|fear\w*|worr\w+"
    r"|urges?|tempt\w*|impulses?|want(?:ed|s)?\s+to|wish\w*|imagin\w+|fantasi[sz]\w*|thoughts?"
    r"|felt\s+like|feel(?:ing)?\s+like|never|didn'?t|did\s+not|used\s+to|threaten\w*)\b", _I)
_CLAUSE_CUT = re.compile(r"[,;:]|\b(?:but|and|then|so)\b", _I)
_CONFRONT = re.compile(r"\bconfront\s+(?:him|her|them|your\s+\w+)\s+(?:alone|on\s+your\s+own"
                       r"|by\s+yourself)\b|\bstay(?:ing)?\s+with\s+(?:an|your)\s+abus\w+", _I)

@dataclass(frozen=True)
class Finding:
    rule: str  # self_harm_method, medication_question, violence_question, dosage, ...
    kind: SafetyFlagKind
    where: Where
    quote: str


@dataclass(frozen=True)
class SafetyScreen:
    findings: tuple[Finding, ...] = ()
    crisis_topic: bool = False  # the asker's own, current crisis (see synth.text.crisis)
    crisis_resources: bool = False
    crisis_quote: str = ""
    crisis_set_aside: str = ""  # e.g. 'negated: "I'm not suicidal"' (crisis words, not a crisis)

    def rules(self) -> set[str]:
        return {f.rule for f in self.findings}

    def with_findings(self, extra: list[Finding]) -> SafetyScreen:
        return replace(self, findings=self.findings + tuple(extra)) if extra else self

    def flags(self) -> list[SafetyFlag]:
        return [SafetyFlag(kind=f.kind, quote=f.quote) for f in self.findings]


# the answer side of a screen: its findings, crisis readings, and whether it points to help
AnswerSide = tuple[tuple[Finding, ...], tuple[tuple[str, Reading | None], ...], bool]


def screen(question: str, answer: str, extra_resources: tuple[re.Pattern[str], ...] = (),
           side: AnswerSide | None = None) -> SafetyScreen:
    """Screen one pair: unsafe questions, medical advice, harmful advice, crisis handling.
    `side`: the answer's side already read (answer_side; synth.judge.screens keeps it)."""
    answer_findings, answer_readings, resources = side or answer_side(answer, extra_resources)
    findings = [*_question_findings(question), *answer_findings]
    readings = [(s, read_crisis(s, speaker=True)) for s in sentences(question)]
    readings += answer_readings
    crisis = [s for s, reading in readings if reading == "own"]
    aside = next((f'{reading}: "{s[:200]}"' for s, reading in readings if reading not in (None, "own")), "")
    return SafetyScreen(tuple(findings), bool(crisis), resources, crisis[0][:300] if crisis else "", aside)


@lru_cache(maxsize=8192)
def answer_side(answer: str, extra_resources: tuple[re.Pattern[str], ...]) -> AnswerSide:
    """The answer's findings, crisis readings and resources: a function of the answer alone, read
    once per distinct answer (a segment's answer is checked with each of its questions)."""
    readings = tuple((s, read_crisis(s, speaker=False)) for s in sentences(answer))
    resources = bool(RESOURCES.search(answer)) or any(p.search(answer) for p in extra_resources)
    return tuple(_answer_findings(answer)), readings, resources


def _question_findings(question: str) -> list[Finding]:
    found: list[Finding] = []
    for s in sentences(question):
        if _is_method_question(s):
            found.append(Finding("self_harm_method", "self_harm", "question", s[:300]))
        if asks_to_change(s):
            found.append(Finding("medication_question", "medical_advice", "question", s[:300]))
        if _HARM_OTHERS_Q.search(s):
            found.append(Finding("violence_question", "other", "question", s[:300]))
    return found


def _is_method_question(sentence: str) -> bool:
    if _CONCEAL.search(sentence):
        return True
    if read_crisis(sentence) in (None, "negated", "grief", "past"):
        return False
    return bool(_METHOD_CUE.search(sentence) and not _HELP_CUE.search(sentence))


def _answer_findings(answer: str) -> list[Finding]:
    found: list[Finding] = []
    for s in sentences(answer):
        quote = s[:300]
        rule = medication_rule(s)
        if rule:
            found.append(Finding(rule, "medical_advice", "answer", quote))
        if discourages_doctor(s):
            found.append(Finding("doctor_discouraged", "medical_advice", "answer", quote))
        if _advises_violence(s):
            found.append(Finding("violence", "other", "answer", quote))
        if _CONFRONT.search(s):
            found.append(Finding("risky_confrontation", "abuse", "answer", quote))
    return found


def _advises_violence(sentence: str) -> bool:
    """An act of violence said as something to do: not negated ("don't hit him"), not a
    condition, fear or urge before it in its clause ("if he hit them", "afraid I'd hurt her")."""
    if re.search(r"\b(?:don't|do\s+not|never)\b", sentence, _I):
        return False
    for match in _VIOLENCE_A.finditer(sentence):
        head = sentence[:match.start()]
        cuts = [m.end() for m in _CLAUSE_CUT.finditer(head)]
        if not _HYPOTHETICAL.search(head[cuts[-1]:] if cuts else head):
            return True
    return False


def _deciding_hits(near: list[AdviceHit], config: SafetyConfig) -> list[AdviceHit]:
    """The sentence hits that flag an answer, or [] when they are not enough (see
    SafetyPolicy.advice_findings)."""
    hits = [hit for hit in near if hit.probability >= config.advice_min_probability]
    if len(hits) >= config.advice_min_passages or any(
            hit.probability >= config.advice_strong_probability for hit in hits):
        return hits
    return near if len(near) >= config.advice_sustained_passages else []


# ---------------------------------------------------------------- policy

QUESTION_REASONS = {"self_harm_method": "unsafe_question:self_harm_method",
                    "medication_question": "unsafe_question:medication",
                    "violence_question": "unsafe_question:violence"}
MEDICAL_RULES = ("dosage", "medication_directive", "doctor_discouraged")
HARMFUL_RULES = ("violence", "risky_confrontation", "unsafe_advice")


@dataclass(frozen=True)
class SafetyPolicy:
    config: SafetyConfig
    extra_resources: tuple[re.Pattern[str], ...] = field(default=())

    @classmethod
    def from_config(cls, config: SafetyConfig) -> SafetyPolicy:
        patterns = []
        for i, text in enumerate(config.crisis_resources):
            try:
                patterns.append(re.compile(text, _I))
            except re.error as exc:
                raise ConfigError(f"not a valid regex: {exc}", key=f"safety.crisis_resources.{i}") from None
        return cls(config, tuple(patterns))

    def screen(self, question: str, answer: str, side: AnswerSide | None = None) -> SafetyScreen:
        return screen(question, answer, self.extra_resources, side)

    def answer_side(self, answer: str) -> AnswerSide:
        return answer_side(answer, self.extra_resources)

    def advice_exemplars(self) -> list[str]:
        """The exemplar texts the unsafe-advice screen needs embedded (none when it is off)."""
        if not self.config.unsafe_advice:
            return []
        unsafe, _, safe = bank_texts(load_bank(self.config.advice_bank))
        return unsafe + safe

    def advice_findings(self, passages: dict[str, list[str]],
                        vectors: dict[str, np.ndarray]) -> dict[str, list[Finding]]:
        """answer -> its unsafe_advice findings, from the embedded sentences of each answer: an
        answer is flagged when `advice_min_passages` sentences hit, or one scores
        `advice_strong_probability` (one borderline sentence alone is too often a description
        of a pattern rather than advice to follow it), or the evidence is sustained:
        `advice_sustained_passages` sentences each at `advice_sustained_probability` (an answer
        that argues a risky course over several sentences, none of them decisive alone)."""
        if not passages:
            return {}
        bank = load_bank(self.config.advice_bank)
        unsafe, categories, safe = bank_texts(bank)
        texts = sorted({p for found in passages.values() for p in found})
        config = self.config
        hits = dict(zip(texts, screen_passages(
            matrix(texts, vectors), texts, matrix(unsafe, vectors), categories, unsafe,
            matrix(safe, vectors), bank.scorer, config.advice_min_similarity,
            min(config.advice_min_probability, config.advice_sustained_probability))))
        out = {}
        for answer, found in passages.items():
            answer_hits = _deciding_hits([hit for hit in (hits[p] for p in found) if hit is not None],
                                         config)
            if answer_hits:
                out[answer] = [Finding("unsafe_advice", "other", "answer", f"{hit.passage[:240]} "
                                       f"(p {hit.probability:.2f}, nearest {hit.category})")
                               for hit in answer_hits]
        return out

    def screen_reasons(self, result: SafetyScreen) -> list[str]:
        """Exclusion reasons from the screen alone (no judge needed)."""
        rules, reasons = result.rules(), []
        if self.config.exclude_unsafe_questions:
            reasons += [reason for rule, reason in QUESTION_REASONS.items() if rule in rules]
        if self.config.exclude_medical_advice and rules.intersection(MEDICAL_RULES):
            reasons.append("medical_advice_beyond_scope")
        reasons += [f"harmful_advice:{rule}" for rule in HARMFUL_RULES if rule in rules]
        if result.crisis_topic and not result.crisis_resources and self.config.crisis_requires_resources:
            reasons.append("crisis_without_resources")
        return reasons

    def judgment_reasons(self, result: SafetyScreen, judgment: Judgment | None) -> list[str]:
        """Exclusion reasons from the judge's verdict: crisis safety score, safety flags."""
        if judgment is None or judgment.status != "ok":
            return []
        reasons = []
        safety = judgment.scores.get("safety")
        if result.crisis_topic and safety is not None and safety.score < self.config.crisis_min_safety_score:
            reasons.append("crisis_failed_safety_criterion")
        kinds = sorted({f.kind for f in judgment.safety_flags if f.kind in self.config.exclude_judge_flags})
        return reasons + [f"judge_flag:{kind}" for kind in kinds]

    def reasons(self, result: SafetyScreen, judgment: Judgment | None) -> list[str]:
        return self.screen_reasons(result) + self.judgment_reasons(result, judgment)
