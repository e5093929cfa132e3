"""Automated checks on question/answer pairs, no LLM: alignment, lexical overlap, safety screen,
formatting, question length and degenerate questions (synth.judge.degenerate). Each gives a
CheckResult with a score, a verdict and a reason; ADVISORY_CHECKS are scores, never a veto.

Alignment (synth.judge.alignment) and the unsafe-advice part of the safety screen
(synth.judge.advice) need the `embed` extra (all-MiniLM-L6-v2); without it alignment is
recorded as skipped with the reason, never given a made-up score, and the screen runs its
rules only.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from synth.config import ChecksConfig
from synth.errors import InputError
from synth.judge.advice import passages as advice_passages
from synth.judge.alignment import alignment_results, skipped_results
from synth.judge.degenerate import degenerate_question
from synth.judge.harm import harm_check
from synth.judge.safety import SafetyPolicy, SafetyScreen
from synth.judge.screens import AnswerScreen, machine_screens
from synth.judge.vectors import VectorCache, embed_texts
from synth.records import CheckResult
from synth.text import embeddings

STOPWORDS = frozenset((  # noqa: SIM905 (a word list reads best as text)
    "a about above after again against all also am an and any are aren't as at be because been "
    "before being below between both but by can can't could couldn't did didn't do does doesn't "
    "doing don't down during each even ever every few for from further get gets getting got had "
    "hadn't has hasn't have haven't having he her here hers herself him himself his how i i'd i'll "
    "i'm i've if in into is isn't it it's its itself just keep know like lot make me more most much "
    "my myself no nor not now of off on once one only or other our ours ourselves out over own "
    "really same say she should so some something still such than that that's the their theirs "
    "them themselves then there these they they're thing things think this those through to too "
    "under until up very want was wasn't we we're were what what's when where which while who whom "
    "why will with won't would you you're your yours yourself yourselves").split())
_WORD = re.compile(r"[a-z][a-z']*")
_INTERROGATIVE = re.compile(  # "At what age ...", "For how long ...": a preposition may lead
    r"^(?:(?:at|in|for|from|to|with|by|on|after|since|until)\s+(?=(?:what|which|whom|whose|how)\b))?"
    r"(?:how|what|why|when|where|who|whom|whose|which|is|are|am|was|were|can|could|should|would"
    r"|do|does|did|will|have|has|may|might|must)\b", re.IGNORECASE)
# what someone writes when they ask for help without a question mark
_ASKS_FOR_HELP = re.compile(
    r"\b(?:i\s+(?:do\s+not|don'?t)\s+know\s+(?:what|how|why|if|whether|where|who|anymore)"
    r"|(?:i'?m|i\s+am)\s+not\s+sure\s+(?:what|how|why|if|whether)|(?:please\s+)?help\s+me\b"
    r"|i\s+(?:need|want|would\s+like|'d\s+like)\s+(?:some\s+)?(?:help|advice|guidance|support"
    r"|to\s+know|to\s+understand)|any\s+(?:advice|tips|ideas|suggestions|thoughts)"
    r"|(?:i\s+)?(?:wonder|am\s+wondering|was\s+wondering)\s+(?:if|whether|how|why|what)"
    r"|i\s+(?:can'?t|cannot|can\s+not)\s+(?:stop|cope|deal|handle|take|seem|get|sleep|function"
    r"|go\s+on|keep)|(?:i'?m|i\s+am|i'?ve\s+been)\s+(?:really\s+|so\s+)?(?:struggling"
    r"|scared|afraid|terrified|lost|stuck|overwhelmed|confused|desperate|exhausted|hopeless"
    r"|at\s+a\s+loss|worried|depressed|anxious|falling\s+apart)"
    r"|what\s+(?:to|should\s+i)\s+do|how\s+to\s+\w+|tell\s+me\s+(?:how|what|why|if|about)"
    r"|need\s+to\s+know|looking\s+for|asking\s+for\s+help|(?:request|want|like)\s+(?:further\s+|more\s+)?"
    r"(?:knowledge|information|info)|i\s+want\s+to\s+know|(?:please|pls|kindly)\s+(?:\w+\s+)?"
    r"(?:inform|send|tell|explain|advise|help|let|give|show)|what\s+(?:do|can|should)\s+i\s+do"
    r"|(?:trying|unable|can'?t|cannot)\s+(?:to\s+)?(?:obtain|find|get)\s+(?:any\s+)?(?:info|help"
    r"|information|advice|this)|\bwhats\b|^\W*(?:at|in|for|from|to|with)\s+(?:what|which|whom)\b)",
    re.IGNORECASE)
# a first-person disclosure of distress or want: how people ask for support without asking
# ("I'm so done with life. I just wish I mattered."); measured on real peer-support posts (README)
_DISCLOSES = re.compile(  # a distress word must follow: "I felt fine today." asks for nothing
    r"\b(?:i|i['’]?m|i\s+am|i['’]?ve|i\s+have|i\s+was|i['’]?d)\s+(?:\w+\s+){0,3}?"
    r"(?:hate|can['’]?t\s+(?:cope|go\s+on|take|handle|stop|do\s+this)|cannot\s+cope"
    r"|don['’]?t\s+want\s+to\s+(?:live|be\s+here|go\s+on|feel)|tired|exhausted|done\s+with"
    r"|scared|afraid|alone|lonely|lost|worthless|depressed|anxious|hopeless|numb|crying|cried"
    r"|struggling|suffering|hurting|broken|miserable|empty|sad|stuck|failing|a\s+failure"
    r"|overwhelmed|(?:want|need)\s+(?:someone|somebody|it\s+to\s+stop)|wish\s+i\s+(?:mattered"
    r"|was\s+dead|wasn['’]?t\s+here|could\s+disappear)|trying\s+(?:so\s+hard|to\s+cope))\b",
    re.IGNORECASE)
_LEFTOVER_Q = re.compile(  # placeholders are upper case: "[TOPIC]" is a leftover, "[sic]" is not
    r"\{\{|\}\}|\{%|%\}|\$\{|\[[A-Z][A-Z0-9_ ]{1,30}\]|<[A-Z][A-Z0-9_]{1,30}>|\bTO[D]O\b"
    r"|\b[Ll]orem ipsum\b|^\s*(?:[Qq]uestion|Q)\s*[:\-]", re.MULTILINE)
# What a redaction writes in place of personal data: synth's own typed placeholders
# (synth.ingest.pii.PLACEHOLDER, synth.ingest.clean) and the usual de-identification types.
# A redacted real message keeps them ("my son was seen on [DATE]"); they are no template
# leftover. The generator refuses a question with any placeholder (synth.generate.prompts).
REDACTION_LABELS = frozenset((  # noqa: SIM905
    "NAME PERSON FIRST_NAME LAST_NAME EMAIL PHONE ADDRESS URL HANDLE IP USERNAME DATE TIME "
    "DATE_TIME AGE LOCATION CITY STATE COUNTRY ZIP POSTCODE ORGANIZATION ORG HOSPITAL "
    "PROFESSION ID SSN CONTACT").split())
_LEFTOVER_A = re.compile(r"\{\{|\}\}|\{%|%\}")
_AI_DISCLAIMER = re.compile(
    r"\bas an ai\b|\bas a(?:n ai)? language model\b|\bi'?m (?:just )?an ai\b"
    r"|\bi (?:cannot|can't) (?:help|assist) with (?:that|this)\b", re.IGNORECASE)


@dataclass(frozen=True)
class PairChecks:
    """The checks of one pair, with the safety screen the policy and the offline judge use."""

    results: list[CheckResult]
    screen: SafetyScreen

    def get(self, name: str) -> CheckResult:
        return next(r for r in self.results if r.name == name)


def run_checks(items: list[tuple[str, str]], config: ChecksConfig, policy: SafetyPolicy,
               cache: VectorCache | None = None,
               pool: list[tuple[str, str]] | None = None, progress: bool = False,
               plan: frozenset[tuple[str, ...]] = frozenset()) -> list[PairChecks]:
    """Check (question, answer) items. Every distinct text (and answer passage) is encoded once,
    in one call; alignment is scored against `pool` (the run's pairs; default: the items).
    `progress`: a bar with ETA on stderr while encoding. `plan`: the generator prompts' text
    a question must not echo (synth.judge.degenerate.config_plan)."""
    pool = items if pool is None else pool
    store = machine_screens(policy.config)
    answers = sorted({a for _, a in items})
    screens = store.get(answers) if store is not None else {}
    todo = [a for a in answers if a not in screens]  # each distinct answer screened once per machine
    if embeddings.available():
        passages = {a: advice_passages(a) for a in todo} if policy.config.unsafe_advice else {}
        texts = [t for pair in (*items, *pool) for t in pair]
        vectors = embed_texts(texts + [p for ps in passages.values() for p in ps]
                              + (policy.advice_exemplars() if passages else []), cache, progress)
        aligned = alignment_results(items, pool, vectors, config)
        unsafe = policy.advice_findings(passages, vectors)
    else:
        aligned, unsafe = skipped_results(items), {}
    fresh = {a: AnswerScreen(policy.answer_side(a), tuple(unsafe.get(a, []))) for a in todo}
    if store is not None and fresh:
        store.put(fresh)
    screens.update(fresh)
    out = []
    for (question, answer), aligned_result in zip(items, aligned):
        known = screens[answer]
        screen_result = policy.screen(question, answer, known.side).with_findings(list(known.advice))
        results = [aligned_result, lexical_overlap(question, answer, config),
                   safety_check(screen_result, policy), formatting(question, answer, config),
                   question_length(question, config), harm_check(question),
                   degenerate_question(question, answer, plan)]
        out.append(PairChecks(results, screen_result))
    return out


@lru_cache(maxsize=8192)  # an answer is read with each of its questions
def content_words(text: str) -> frozenset[str]:
    return frozenset(_stem(w.strip("'")) for w in _WORD.findall(text.lower())
                     if w not in STOPWORDS and len(w.strip("'")) > 2)


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def lexical_overlap(question: str, answer: str, config: ChecksConfig) -> CheckResult:
    """Share of the question's content words (stemmed, no stopwords) found in the answer."""
    q_words = content_words(question)
    if not q_words:
        return CheckResult(name="lexical_overlap", score=0.0, passed=False,
                           reason="the question has no content words")
    shared = q_words & content_words(answer)
    score = round(len(shared) / len(q_words), 4)
    passed = score >= config.min_overlap
    shown = ", ".join(sorted(shared)[:8]) or "none"
    return CheckResult(name="lexical_overlap", score=score, passed=passed,
                       reason=f"{len(shared)}/{len(q_words)} question content words in the answer "
                              f"({shown}); min_overlap {config.min_overlap}")


def safety_check(screen_result: SafetyScreen, policy: SafetyPolicy) -> CheckResult:
    reasons = policy.screen_reasons(screen_result)
    if reasons:
        quotes = "; ".join(f"{f.rule}: \"{f.quote[:120]}\"" for f in screen_result.findings)
        detail = quotes or f"crisis content: \"{screen_result.crisis_quote[:120]}\""
        return CheckResult(name="safety_screen", score=0.0, passed=False,
                           reason=f"{', '.join(reasons)} ({detail})")
    if screen_result.crisis_topic:
        return CheckResult(name="safety_screen", score=1.0, passed=True,
                           reason="crisis content that points to crisis resources")
    return CheckResult(name="safety_screen", score=1.0, passed=True,
                       reason="no self-harm, medication, violence or abuse findings")


def formatting_problems(question: str, answer: str) -> list[str]:
    problems = []
    if not is_question(question):
        problems.append("not a question (no '?', no interrogative sentence, no request for help)")
    leftover = next((m for m in _LEFTOVER_Q.finditer(question)
                     if m.group(0).strip("[]") not in REDACTION_LABELS), None) or _LEFTOVER_A.search(answer)
    if leftover:
        problems.append(f"template leftover {leftover.group(0).strip()!r}")
    disclaimer = _AI_DISCLAIMER.search(question) or _AI_DISCLAIMER.search(answer)
    if disclaimer:
        problems.append(f"AI disclaimer {disclaimer.group(0)!r}")
    return problems


def is_question(text: str) -> bool:
    """A question mark, a sentence opening like a question, a message asking for help in
    other words ("I don't know what to do anymore. I can't stop crying."), or one disclosing
    distress in the first person, which is how people seek support ("I just wish I mattered")."""
    if "?" in text or any(_INTERROGATIVE.match(s) for s in re.split(r"[.!]\s+", text.strip())):
        return True
    return bool(_ASKS_FOR_HELP.search(text) or _DISCLOSES.search(text))


FORMATTING_RULES = 3  # question form, template leftovers, AI disclaimer


def formatting(question: str, answer: str, config: ChecksConfig) -> CheckResult:
    problems = formatting_problems(question, answer)
    score = round((FORMATTING_RULES - len(problems)) / FORMATTING_RULES, 4)
    reason = "; ".join(problems) if problems else "a question, no leftovers or AI disclaimer"
    return CheckResult(name="formatting", score=score, passed=not problems, reason=reason)


def question_length(question: str, config: ChecksConfig) -> CheckResult:
    """Words against `question_min_words`-`question_max_words`: a score (1 inside the bounds,
    the share of the bound reached or not exceeded outside), never a veto: real people write
    two-word questions and 150-word stories (README "Gates on real data")."""
    words, low, high = len(question.split()), config.question_min_words, config.question_max_words
    score = 1.0 if low <= words <= high else round(words / low if words < low else high / words, 4)
    return CheckResult(name="question_length", score=score, passed=score == 1.0,
                       reason=f"question has {words} words, {'inside' if score == 1.0 else 'outside'} {low}-{high}")


@dataclass(frozen=True)
class CheckItem:
    line: int
    question: str
    answer: str
    id: str | None = None


def read_check_items(path: Path) -> tuple[list[CheckItem], list[InputError]]:
    """Read a JSONL file of {question, answer} objects; bad lines become errors naming them."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", file=str(path)) from None
    items: list[CheckItem] = []
    errors: list[InputError] = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                items.append(_check_item(line, number, str(path)))
            except InputError as exc:
                errors.append(exc)
    return items, errors


def _check_item(line: str, number: int, file: str) -> CheckItem:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} (column {exc.colno})", file=file, line=number) from None
    if not isinstance(obj, dict):
        raise InputError("not a JSON object", file=file, line=number)
    for key in ("question", "answer"):
        if key not in obj:
            raise InputError("missing", file=file, line=number, field=key)
        if not isinstance(obj[key], str) or not obj[key].strip():
            raise InputError("must be a non-empty string", file=file, line=number, field=key)
    raw_id = obj.get("id", obj.get("pair_id"))
    return CheckItem(number, obj["question"], obj["answer"], None if raw_id is None else str(raw_id))


# scores the judge and curate see, never a veto: lexical overlap separates true pairs from
# mismatches at AUC 0.83 only, and fails 7% of real consumer questions' true answers; real
# questions exceed any length cap (README "Gates on real data", bench/bench_gates.py)
ADVISORY_CHECKS = ("lexical_overlap", "question_length")


def check_report(item: CheckItem, checks: PairChecks) -> dict[str, object]:
    """One JSON-able line of `synth check` output."""
    return {
        "line": item.line, "id": item.id,
        "passed": all(r.passed for r in checks.results if r.name not in ADVISORY_CHECKS),
        "checks": {r.name: {"score": r.score, "passed": r.passed, "skipped": r.skipped,
                            "advisory": r.name in ADVISORY_CHECKS, "reason": r.reason}
                   for r in checks.results},
    }
