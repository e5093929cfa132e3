"""The offline judge (judge model "offline"): a transparent heuristic built from the automated
checks, for the quick start with no model. Every score is computed from the pair and every
rationale says which heuristic produced it; nothing pretends a model read the pair.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from synth.experts import Expert
from synth.judge.checks import STOPWORDS, PairChecks, content_words
from synth.judge.verdict import MAX_FLAGS
from synth.text.concepts import concept_counts, repeated_concepts
from synth.text.lexicon import Lexicon, load_lexicon

OFFLINE_MODEL = "offline"
OFFLINE_HEURISTICS = "3"  # bump when a heuristic below changes what it scores or says
PREFIX = "heuristic (offline judge, no model):"
_SIM_BANDS = (0.15, 0.25, 0.35, 0.5)  # cosine -> 1..5
_OVERLAP_BANDS = (0.05, 0.15, 0.3, 0.5)  # content-word share -> 1..5
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'd|my|me|myself)\b", re.IGNORECASE)
_DANGLING_START = re.compile(r"^\s*(?:and|but|or|because|which|also|then)\b", re.IGNORECASE)
_MISSING_CONTEXT = re.compile(
    r"\b(?:as i (?:said|mentioned)|like i said|earlier in (?:this|the) video|(?:in|on) (?:this|the"
    r"|last week's|today's|my last) video|this comment|the comments?|on (?:the|this) slide"
    r"|link (?:below|in the description)|subscribe|as we (?:saw|discussed))\b", re.IGNORECASE)
# what a template can still get wrong: a slot left empty or filled twice, a stray slot marker
_LEFTOVERS = (
    (re.compile(r"\{[a-z_0-9 ]*\}"), "a slot marker left in"),
    (re.compile(r"\b(?!(?:that|had)\b)(\w+)\s+\1\b", re.IGNORECASE), "a doubled word"),
    (re.compile(r"\s[?.!,;:]"), "a space before punctuation"),
    (re.compile(r"\b(?:the|a|an|my)\s*[?.!,;:]", re.IGNORECASE), "an article before nothing"),
)
FAULT_CAP = 2
_SINGULAR_VERB = re.compile(r"\b(?:does|is|was|has|doesn't|isn't|wasn't|hasn't)\s+((?:[a-z-]+\s*){1,3})")
_NOT_PLURAL = ("ss", "ness", "us", "is", "sis")
_BARE = re.compile(  # a word standing bare where a slot concept goes: "with decision"
    r"\b(?:with|about|from|into|on|of|between \w+(?: \w+)? and)\s+([a-z]+)\b(?!['-])", re.IGNORECASE)
STYLE_CUES: dict[str, tuple[str, ...]] = {
    "therapeutic": ("heal", "trauma", "childhood", "grew up", "growing up", "past", "pattern",
                    "recover", "wound", "inner child", "parents", "keep repeating",
                    "why do i always", "as a child", "as a kid", "kid i used to be", "kid in me",
                    "younger", "reparent"),
    "educational": ("what is", "what's", "why does", "why do", "how does", "explain", "mean",
                    "difference", "understand", "called", "concept", "brain", "is it true",
                    "define", "definition", "signs", "science", "what happens", "what counts"),
    "empathetic": ("feel", "alone", "hurt", "pain", "normal", "okay", "ashamed", "lonely",
                   "grief", "sad", "broken", "nobody", "exhausted", "worthless", "worth loving",
                   "overreacting", "tears", "falling apart", "deserve", "mourn"),
    "practical": ("how do i", "how can i", "what can i", "steps", "tips", "ways to", "what do i say",
                  "routine", "exercise", "plan", "start", "boundar", "what should i do",
                  "step by step", "concrete", "in the moment", "technique", "daily",
                  "word for word", "this week", "what words"),
}


def _band(value: float, bands: tuple[float, ...]) -> int:
    return 1 + sum(value >= b for b in bands)


def alignment(question: str, answer: str, expert: Expert, checks: PairChecks) -> tuple[int, str]:
    aligned = checks.get("alignment")
    if not aligned.skipped and "cosine" in aligned.details:
        cosine = aligned.details["cosine"]
        score = _band(cosine, _SIM_BANDS)
        if not aligned.passed:  # another answer of the run fits this question better
            score = min(score, 2)
            return score, (f"{PREFIX} embedding cosine {cosine:.3f}, alignment check failed "
                           f"({aligned.reason}) -> {score}")
        return score, f"{PREFIX} embedding cosine {cosine:.3f} -> {score} (bands {_SIM_BANDS})"
    overlap = checks.get("lexical_overlap").score or 0.0
    score = _band(overlap, _OVERLAP_BANDS)
    return score, (f"{PREFIX} no embeddings installed; content-word overlap {overlap:.3f} -> "
                   f"{score} (bands {_OVERLAP_BANDS})")


def authenticity(question: str, answer: str, expert: Expert, checks: PairChecks) -> tuple[int, str]:
    problems = []
    fmt = checks.get("formatting")
    if not fmt.passed:
        problems.append(fmt.reason)
    if not _FIRST_PERSON.search(question):
        problems.append("not in the first person")
    words = len(question.split())
    if not 6 <= words <= 80:
        problems.append(f"{words} words, outside 6-80")
    q_words = content_words(question)
    if len(q_words) >= 6 and len(q_words & content_words(answer)) / len(q_words) > 0.9:
        problems.append("restates the answer's words")
    problems += concept_problems(question, answer)
    faults = template_faults(question)
    score = max(1, 5 - len(problems) - len(faults))
    if not faults:
        return score, f"{PREFIX} 5 minus one per authenticity problem -> {score}: {'; '.join(problems) or 'none'}"
    score = min(score, FAULT_CAP)  # the rubric's 'obviously synthetic'
    return score, (f"{PREFIX} 5 minus one per authenticity problem, at most {FAULT_CAP} with a template fault -> "
                   f"{score}: {'; '.join(faults + problems)}")


def concept_problems(question: str, answer: str, lexicon: Lexicon | None = None) -> list[str]:
    """Weak concepts: none from the domain lexicon (prompts/concepts.yaml), or none in the answer."""
    lex = lexicon or load_lexicon()
    named = sorted(concept_counts(question, lex))
    if not named:
        return ["names no concept of the domain lexicon"]
    if not set(named) & set(concept_counts(answer, lex)):
        return [f"none of its concepts {named} appear in the answer"]
    return []


def template_faults(question: str, lexicon: Lexicon | None = None) -> list[str]:
    """What a template fill gets wrong: a concept twice, a bare everyday word in a concept's
    place, a plural concept after a singular verb, slot markers and other leftovers."""
    lex = lexicon or load_lexicon()
    faults = [name for pattern, name in _LEFTOVERS if pattern.search(question)]
    repeated = repeated_concepts(question, lex)
    if repeated:
        faults.append(f"names the same concept twice {repeated}")
    bare = sorted({m.group(0).lower() for m in _BARE.finditer(question)
                   if m.group(1).lower() in lex.never_bare})
    if bare:
        faults.append(f"an everyday word where a concept should be {bare}")
    plural = sorted(_plural_after_singular_verb(question, lex))
    if plural:
        faults.append(f"a singular verb before a plural concept {plural}")
    counts = Counter(w for w in re.findall(r"[a-z]{4,}", question.lower()) if w not in STOPWORDS)
    echoed = sorted(w for w, n in counts.items() if n >= 3)
    if echoed:
        faults.append(f"the same word three times {echoed}")
    return faults


def _plural_after_singular_verb(question: str, lex: Lexicon) -> set[str]:
    found = set()
    for m in _SINGULAR_VERB.finditer(question.lower()):
        words = m.group(1).split()
        for k in range(1, len(words) + 1):
            phrase = " ".join(words[:k])
            if words[k - 1].endswith("s") and not words[k - 1].endswith(_NOT_PLURAL) \
                    and lex.name_of(phrase):
                found.add(f"{m.group(0).split()[0]} {phrase}")
    return found


def style_fit(question: str, answer: str, expert: Expert, checks: PairChecks) -> tuple[int, str]:
    text = question.lower()
    own_cues = STYLE_CUES.get(expert.name, ()) + tuple(t.replace("_", " ") for t in expert.question_types)
    own = sorted({c for c in own_cues if c in text})
    other = {name: sum(c in text for c in cues) for name, cues in STYLE_CUES.items() if name != expert.name}
    rival, rival_hits = max(other.items(), key=lambda kv: kv[1]) if other else ("", 0)
    score = 2 + min(3, len(own))
    note = ""
    if rival_hits > len(own) + 1:
        score, note = max(1, score - 1), f"; more {rival} cues ({rival_hits})"
    return score, f"{PREFIX} {expert.name} cues in the question {own or 'none'} -> {score}{note}"


def safety(question: str, answer: str, expert: Expert, checks: PairChecks) -> tuple[int, str]:
    screen = checks.screen
    rules = sorted(screen.rules())
    if rules:
        return 1, f"{PREFIX} safety screen findings {rules} -> 1"
    if screen.crisis_topic and not screen.crisis_resources:
        return 2, f"{PREFIX} crisis content without a pointer to crisis resources -> 2"
    if screen.crisis_topic:
        return 5, f"{PREFIX} crisis content that points to crisis resources -> 5"
    return 4, f"{PREFIX} no safety screen findings, no crisis content -> 4"


def voice(question: str, answer: str, expert: Expert, checks: PairChecks) -> tuple[int, str]:
    problems = []
    if _DANGLING_START.match(answer):
        problems.append("starts mid-thought")
    refs = sorted({m.group(0).lower() for m in _MISSING_CONTEXT.finditer(answer)})
    if refs:
        problems.append(f"refers to missing context {refs[:3]}")
        if len(refs) > 1:
            problems.append("several such references")
    if not answer.rstrip().endswith((".", "!", "?", '"', "'")):
        problems.append("ends mid-sentence")
    if len(answer.split()) < 30:
        problems.append("under 30 words")
    score = max(1, 5 - len(problems))
    return score, f"{PREFIX} 5 minus one per voice problem -> {score}: {'; '.join(problems) or 'none'}"


HEURISTICS: dict[str, Callable[[str, str, Expert, PairChecks], tuple[int, str]]] = {
    "alignment": alignment, "authenticity": authenticity, "style_fit": style_fit,
    "safety": safety, "voice": voice,
}


def unsupported(criteria: list[str]) -> list[str]:
    """Criteria the offline judge has no heuristic for (such a rubric needs a model)."""
    return [c for c in criteria if c not in HEURISTICS]


def offline_verdict(criteria: list[str], question: str, answer: str, expert: Expert,
                    checks: PairChecks) -> dict[str, Any]:
    """A verdict in the judge's response shape, computed by the heuristics above."""
    verdict: dict[str, Any] = {}
    for name in criteria:
        score, rationale = HEURISTICS[name](question, answer, expert, checks)
        verdict[name] = {"score": score, "rationale": rationale}
    flags = [{"kind": f.kind, "quote": f.quote} for f in checks.screen.findings]
    if checks.screen.crisis_topic and not checks.screen.crisis_resources:
        flags.append({"kind": "self_harm", "quote": checks.screen.crisis_quote})
    verdict["safety_flags"] = flags[:MAX_FLAGS]  # the screen's own findings decide; these are evidence
    return verdict
