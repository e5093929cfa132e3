"""Degenerate questions (issue 17 item 7), no LLM: what a small model writes when it fails.

Three named rules, each a hard gate only where it is right when it rejects a real question
(issue 18), and a score otherwise:
  copied_run     the longest run of words the question copies from the segment (its answer).
                 Real model questions often copy the segment's first sentence, so a copy is a
                 score (the share of the question that is copied); a run of COPY_MAX_WORDS or
                 more (a passage pasted as the question) fails.
  repeated_phrase  the share of the question's word trigrams that repeat an earlier one; a
                 long question that is mostly one phrase over and over fails.
  plan_echo      the generator prompt's own plan text echoed back: the plan's labels ("asker:",
                 or two of "voice:", "length:", ...; "my inner voice: ..." alone is a person's)
                 or a run of ECHO_MIN_WORDS words from the text the generator is prompted with
                 (voices, lengths, instructions, type hints; personas are meant to be used and
                 are left out).
False rejects measured on real human questions: bench/bench_degenerate.py (README).
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path

from synth.config import RunConfig
from synth.records import CheckResult
from synth.text.stats import normalised

NAME = "degenerate_question"
COPY_MAX_WORDS = 25  # a run of this many words copied from the segment: a pasted passage
# a loop: most of a long question's trigrams repeat an earlier one. People repeat themselves too
# ("I hate myself I hate myself I hate myself", a question typed twice: shares up to 70% on
# real posts), but in short messages; a model's loop runs on
REPEAT_MAX_SHARE = 0.6
REPEAT_MIN_TRIGRAMS = 40
ECHO_MIN_WORDS = 6  # words in a row from the prompt's plan or rules
_PLAN_LABEL = re.compile(r"(?:^|[\s;(])(asker|voice|length|persona|backstory|question_type|plan)\s*:",
                         re.IGNORECASE)
_ODD_LABELS = frozenset({"asker", "question_type"})  # no person writes these; "voice:" alone they may
_PIECES = re.compile(r"[^\W_]+")  # letters and digits: "lifes_lifes_lifes" is three pieces
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


def words(text: str) -> list[str]:
    return normalised(text).split()


def longest_copied_run(question: list[str], answer: list[str],
                       at: dict[str, list[int]] | None = None) -> int:
    """The longest run of consecutive words of `question` found in `answer`, in order (`at`:
    where each word of `answer` stands, when the caller has it already)."""
    at = word_positions(answer) if at is None else at
    best = 0
    for i, word in enumerate(question):
        if len(question) - i <= best:
            break
        for j in at.get(word, ()):
            if i and j and question[i - 1] == answer[j - 1]:
                continue  # inside a run counted from its start
            n = 1
            while i + n < len(question) and j + n < len(answer) and question[i + n] == answer[j + n]:
                n += 1
            best = max(best, n)
    return best


def word_positions(text_words: list[str]) -> dict[str, list[int]]:
    at: dict[str, list[int]] = {}
    for j, word in enumerate(text_words):
        at.setdefault(word, []).append(j)
    return at


@functools.lru_cache(maxsize=4096)  # a segment's answer is read with each of its questions
def answer_index(answer: str) -> tuple[list[str], dict[str, list[int]]]:
    answer_words = words(answer)
    return answer_words, word_positions(answer_words)


def repeated_share(question: str) -> tuple[float, int]:
    """(share of trigrams of the question's letter/digit pieces that repeat an earlier one, count)."""
    pieces = _PIECES.findall(question.lower())
    grams = list(zip(pieces, pieces[1:], pieces[2:]))
    if not grams:
        return 0.0, 0
    return 1 - len(set(grams)) / len(grams), len(grams)


@functools.lru_cache(maxsize=8)
def plan_ngrams(prompts_dir: str) -> frozenset[tuple[str, ...]]:
    """Every ECHO_MIN_WORDS-word run of the text the generator prompts a model with: the
    templates' literal text (Jinja tags removed) and the variation file's voices and lengths;
    not its personas (meant to be used), not the offline generator's question templates
    (prompts/offline: questions, not instructions)."""
    root = Path(prompts_dir)
    texts = [_JINJA.sub(" ", p.read_text(encoding="utf-8")) for p in sorted(root.rglob("*.j2"))
             if "offline" not in p.relative_to(root).parts]
    plan = set(_ngrams(texts))
    variation = root / "variation.yaml"
    if variation.exists():  # each voice and length description, whole, however short
        from synth.files import read_yaml

        data = read_yaml(variation) or {}
        for text in [*data.get("voices", []), *(data.get("lengths") or {}).values()]:
            plan.add(tuple(words(str(text))))
            plan.update(_ngrams([str(text)]))
    return frozenset(plan)


@functools.lru_cache(maxsize=8)
def _lengths(plan: frozenset[tuple[str, ...]]) -> tuple[int, ...]:
    return tuple(sorted({len(p) for p in plan if len(p) >= 4}))


def _ngrams(texts: Iterable[str]) -> Iterable[tuple[str, ...]]:
    for text in texts:
        ws = words(text)
        yield from (tuple(ws[i:i + ECHO_MIN_WORDS]) for i in range(len(ws) - ECHO_MIN_WORDS + 1))


def plan_echo(question: str, plan: frozenset[tuple[str, ...]]) -> str | None:
    """The echoed plan text, or None."""
    labels = {m.group(1).lower() for m in _PLAN_LABEL.finditer(question)}
    if labels & _ODD_LABELS or len(labels) >= 2:
        return f"plan labels {', '.join(sorted(labels))}"
    ws = words(question)
    for n in _lengths(plan):
        for i in range(len(ws) - n + 1):
            if tuple(ws[i:i + n]) in plan:
                return f"prompt text {' '.join(ws[i:i + n])!r}"
    return None


def degenerate_question(question: str, answer: str, plan: frozenset[tuple[str, ...]] = frozenset()) -> CheckResult:
    """The three rules on one pair; fails only on a hard rule, scores the weak signals."""
    q_words = words(question)
    copied = longest_copied_run(q_words, *answer_index(answer))
    share, grams = repeated_share(question)
    echo = plan_echo(question, plan) if plan else None
    problems = []
    if copied >= COPY_MAX_WORDS:
        problems.append(f"copied_run: {copied} words in a row from the segment")
    if share >= REPEAT_MAX_SHARE and grams >= REPEAT_MIN_TRIGRAMS:
        problems.append(f"repeated_phrase: {share:.0%} of its word trigrams repeat")
    if echo:
        problems.append(f"plan_echo: {echo}")
    copy_share = copied / len(q_words) if q_words and copied >= 3 else 0.0
    score = round(0.0 if problems else 1 - max(copy_share, share), 4)
    if problems:
        reason = "; ".join(problems)
    else:
        reason = (f"longest run copied from the segment {copied} word(s) ({copy_share:.0%} of the question); "
                  f"{share:.0%} of trigrams repeat; no plan text")
    return CheckResult(name=NAME, score=score, passed=not problems, reason=reason,
                       details={"copied_run": float(copied), "copied_share": round(copy_share, 4),
                                "repeated_share": round(share, 4), "plan_echo": float(echo is not None)})


def config_plan(config: RunConfig) -> frozenset[tuple[str, ...]]:
    """The plan text of the run's generator prompts (config generator.prompts_dir)."""
    return plan_ngrams(str(config.resolve(config.generator.prompts_dir)))
