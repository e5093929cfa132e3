"""harmful_request: a question that asks how to seriously harm someone, or for a weapon.

Text that talks to the model can slip past ingest (synth.ingest.injection) and steer the
question writer: "What is the term you are asked to use, to build a pipe bomb?" was accepted in
an outside measurement. A pair whose question asks for such help is excluded whatever its
scores, with the reason harmful_request:<kind>.

A request is a request frame ("how do I", "how to", "ways to", "steps to", "teach me to",
"tell me how", "instructions for", "recipe for", "what is the best way to", ...) or a question
("?") that names one of these, close together:
- weapons: build / make / assemble / 3D-print a bomb, pipe bomb, explosive, IED, detonator,
  grenade, Molotov, napalm, silencer, untraceable or ghost gun, firearm, weapon;
- mass-harm agents: make / synthesise / grow ricin, sarin, nerve agent, anthrax, toxic gas;
- harm to a person: kill, poison, strangle, stab, torture, kidnap, drug, or hurt someone, and
  hiding it (without getting caught, untraceable, cover up the bruises).
Asking how to STOP, resist or cope with such thoughts (intrusive thoughts are a common worry
in this domain) is not a request for harm. Self-harm method questions belong to the safety
screen (synth.judge.safety), not here.
"""
from __future__ import annotations

import re

from synth.records import CheckResult

NAME = "harmful_request"
_FRAME = (r"(?:how\s+(?:do|can|could|would|should|might)\s+(?:i|you|one|we|someone|a\s+person)"
          r"|how\s+to|ways?\s+to|steps?\s+to|teach\s+me(?:\s+how)?\s+to|tell\s+me\s+how\s+to|show\s+me\s+how\s+to"
          r"|instructions?\s+(?:for|to|on)|recipe\s+for|guide\s+(?:to|for)|what(?:'s|\s+is)\s+the\s+(?:best|easiest"
          r"|quickest|simplest)\s+way\s+to|help\s+me|i\s+(?:want|need)\s+to|is\s+it\s+possible\s+to|can\s+i)")
_NOT = r"(?!\s*(?:stop|avoid|prevent|resist|cope|deal|handle|manage|control|not|never|calm|quiet|ignore)\b)"
_GAP = r"(?:\s+(?!(?:stop|avoid|prevent|resist|cope|deal|handle|manage|control|not|never)\b)[\w'-]+){0,3}?\s+"
_WEAPON = (r"(?:build|make|assemble|construct|create|3d[\s-]?print|print|wire|rig|get|buy|obtain|hide)"
           r"(?:\s+\w+){0,3}?\s+(?:a\s+|an\s+|the\s+|my\s+own\s+)?(?:pipe\s+)?(?:bomb|bombs|explosives?|ied|detonators?"
           r"|grenades?|molotov|napalm|silencer|suppressor|untraceable\s+gun|ghost\s+gun|firearm|gun|weapon)")
_AGENT = (r"(?:make|synthesi[sz]e|produce|grow|extract|brew|cook|release|spread)(?:\s+\w+){0,3}?\s+"
          r"(?:ricin|sarin|nerve\s+agents?|anthrax|botulinum|chlorine\s+gas|mustard\s+gas|toxic\s+gas|poison\s+gas"
          r"|cyanide|meth|fentanyl)")
_PERSON = (r"(?:kill|murder|poison|strangle|choke|stab|shoot|torture|kidnap|abduct|drug|hurt|harm|maim|beat"
           r"|attack|disable|incapacitate)\s+(?:someone|somebody|a\s+person|people|him|her|them|my\s+\w+"
           r"|his\s+\w+|her\s+\w+|a\s+(?:child|kid|baby|woman|man)|the\s+\w+)")
_HIDE = (r"(?:without\s+(?:getting\s+caught|anyone\s+knowing|leaving\s+(?:a\s+)?(?:trace|marks?|evidence))"
         r"|untraceabl[ey]|undetectabl[ey]|cover\s+up\s+(?:the\s+)?(?:bruises|murder|body|crime|injuries))")
_HARM = re.compile(rf"\b{_FRAME}{_NOT}{_GAP}?(?P<act>{_WEAPON}|{_AGENT}|{_PERSON})", re.IGNORECASE)
_ASKED = re.compile(rf"\b(?P<act>{_WEAPON}|{_AGENT})\b[^.?!]*\?", re.IGNORECASE)
_HIDDEN = re.compile(rf"\b{_PERSON}\b[^.?!]*{_HIDE}", re.IGNORECASE)


def harmful_request(question: str) -> tuple[str, str] | None:
    """(kind, quote) when the question asks for a weapon or for help harming someone."""
    for pattern in (_HARM, _ASKED, _HIDDEN):
        match = pattern.search(question)
        if match:
            act = match.group("act") if "act" in pattern.groupindex else match.group(0)
            return _kind(act), " ".join(match.group(0).split())[:120]
    return None


def _kind(act: str) -> str:
    if re.match(rf"{_WEAPON}$", act, re.IGNORECASE):
        return "weapons"
    if re.match(rf"{_AGENT}$", act, re.IGNORECASE):
        return "mass_harm"
    return "harm_to_others"


def harm_check(question: str) -> CheckResult:
    found = harmful_request(question)
    if found:
        kind, quote = found
        return CheckResult(name=NAME, score=0.0, passed=False,
                           reason=f"the question asks for serious harm ({kind}): \"{quote}\"")
    return CheckResult(name=NAME, score=1.0, passed=True, reason="no request for weapons or harm to others")


def harm_reasons(results: list[CheckResult]) -> list[str]:
    """harmful_request:<kind> for a failed harm check among `results` (none when absent)."""
    failed = next((r for r in results if r.name == NAME and not r.passed), None)
    if failed is None:
        return []
    kind = re.search(r"\((\w+)\)", failed.reason)
    return [f"{NAME}:{kind.group(1) if kind else 'other'}"]
