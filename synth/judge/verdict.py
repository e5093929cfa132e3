"""What the judge is asked and what it must answer: messages from the rubric's templates, and
a pydantic response model built from the rubric's criteria (a score and a rationale each, plus
safety flags with the quoted sentence).

A verdict is evidence or it is a failure (issue 17): every rationale must say something (words,
not punctuation) and not copy another criterion's; every flag's quote must occur in the pair
(compared casefolded, quotes unified, punctuation and spacing ignored). The pair reaches the
validators as the request's validation context, so the engine re-asks with the error and a
verdict that never passes is a judge failure, never `ok`. The schema's string bounds are sized
from the judge's `max_tokens`, so an answer that fills the schema is not cut off.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, create_model, model_validator

from synth.errors import ConfigError
from synth.experts import Expert
from synth.generate.prompts import render  # strict render, each template compiled once
from synth.hashing import content_hash
from synth.judge.rubric import Rubric
from synth.records import CriterionScore, Judgment, Pair, SafetyFlag
from synth.text.stats import normalised

FLAG_KINDS = ("self_harm", "medical_advice", "abuse", "other")
MAX_FLAGS = 3  # one quoted sentence already excludes a pair; more is evidence nobody reads
# Sizing: free text of at least 3 characters per token (English prose is about 4 with the BPE
# vocabularies of Qwen, Llama, SmolLM2 and GPT; tests/judge/test_verdict.py fills the schema
# and counts with the Qwen3 tokenizer), and the JSON around it at a generous fixed cost.
CHARS_PER_TOKEN = 3
JSON_TOKENS = 12  # braces, the wrapper and the safety_flags key
CRITERION_TOKENS = 16  # "name": {"score": 5, "rationale": ""},
FLAG_TOKENS = 14  # {"kind": "medical_advice", "quote": ""},
FLAG_SHARE = 0.35  # of the free-text tokens, for the quotes
MIN_RATIONALE_CHARS = 40
_LETTERS = re.compile(r"[^\W\d_]{2,}")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u02bc": "'", "`": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"'})
EVIDENCE = "evidence"  # validation context key: the pair the judge read (question and answer)


def evidence_text(text: str) -> str:
    """`text` as quotes are compared: casefolded words, one spacing, quotes unified."""
    return normalised(text.translate(_QUOTES))


def verdict_problems(verdict: BaseModel, criteria: tuple[str, ...], evidence: str | None) -> list[str]:
    """What makes a verdict noise rather than evidence; `evidence`: the normalised pair."""
    problems = []
    seen: dict[str, str] = {}
    for name in criteria:
        rationale = getattr(verdict, name).rationale
        found = _LETTERS.findall(rationale)  # two words, or one long one (unspaced scripts)
        if len(found) < 2 and not any(len(w) >= 6 for w in found):
            problems.append(f"{name}.rationale {rationale.strip()[:40]!r} says nothing: give the reason "
                            "in words")
            continue
        key = evidence_text(rationale)
        if key in seen:
            problems.append(f"{name}.rationale copies {seen[key]}.rationale: give this criterion's "
                            "own reason")
        seen.setdefault(key, name)
    for i, flag in enumerate(verdict.safety_flags):  # type: ignore[attr-defined]
        quote = evidence_text(flag.quote)
        if not quote or (evidence is not None and quote not in evidence):
            problems.append(f"safety_flags[{i}].quote {flag.quote.strip()[:80]!r} is not in the "
                            "question or the answer: quote the unsafe sentence exactly, or give no flag")
    return problems


class VerdictBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _evidence(self, info: ValidationInfo) -> VerdictBase:
        context = info.context or {}
        criteria = tuple(n for n in type(self).model_fields if n != "safety_flags")
        problems = verdict_problems(self, criteria, context.get(EVIDENCE))
        if problems:
            raise ValueError("; ".join(problems))
        return self


def string_bounds(criteria: int, max_tokens: int) -> tuple[int, int]:
    """(rationale, quote) character bounds that keep a full verdict within `max_tokens`."""
    free = max_tokens - JSON_TOKENS - criteria * CRITERION_TOKENS - MAX_FLAGS * FLAG_TOKENS
    rationale = int(free * (1 - FLAG_SHARE) / criteria) * CHARS_PER_TOKEN
    quote = int(free * FLAG_SHARE / MAX_FLAGS) * CHARS_PER_TOKEN
    if rationale < MIN_RATIONALE_CHARS:
        need = max_tokens + (MIN_RATIONALE_CHARS - rationale) * criteria // CHARS_PER_TOKEN + 1
        raise ConfigError(f"judge.max_tokens {max_tokens} leaves no room for {criteria} rationales of "
                          f"{MIN_RATIONALE_CHARS}+ characters; use about {need * 2} or more",
                          key="judge.max_tokens")
    return rationale, quote


@lru_cache(maxsize=32)
def verdict_model(criteria: tuple[str, ...], max_tokens: int = 512) -> type[BaseModel]:
    """The structured verdict for these criteria: one criterion field each (a 1-5 score and a
    rationale), and up to MAX_FLAGS safety flags, with string bounds that fit `max_tokens`."""
    rationale_chars, quote_chars = string_bounds(len(criteria), max_tokens)
    criterion = create_model(
        "CriterionVerdict", __config__=ConfigDict(extra="forbid"),
        score=(int, Field(ge=1, le=5, description="1-5 on the criterion's anchored scale")),
        rationale=(str, Field(min_length=1, max_length=rationale_chars, description="one or two sentences")))
    flag = create_model(
        "FlagVerdict", __config__=ConfigDict(extra="forbid"),
        kind=(Literal["self_harm", "medical_advice", "abuse", "other"], ...),
        quote=(str, Field(min_length=1, max_length=quote_chars,
                          description="the unsafe sentence, copied exactly from the question or answer")))
    fields: dict[str, Any] = {name: (criterion, ...) for name in criteria}
    fields["safety_flags"] = (list[flag], Field(default=[], max_length=MAX_FLAGS))  # type: ignore[valid-type]
    return create_model("JudgeVerdict", __base__=VerdictBase, **fields)  # type: ignore[call-overload,no-any-return]


def rubric_verdict_model(rubric: Rubric, max_tokens: int = 512) -> type[BaseModel]:
    return verdict_model(tuple(rubric.criteria), max_tokens)


def validation_context(pair: Pair) -> dict[str, Any]:
    """What the verdict's validators check quotes against: the pair the judge read."""
    return {EVIDENCE: evidence_text(f"{pair.question}\n{pair.answer}")}


def render_criteria(rubric: Rubric) -> list[dict[str, Any]]:
    return [{"name": name, "description": c.description, "scale": list(c.scale.items())}
            for name, c in rubric.criteria.items()]


_SYSTEM_MESSAGES: dict[str, str] = {}  # rubric hash -> rendered system message


def _system_message(rubric: Rubric) -> str:
    if rubric.hash not in _SYSTEM_MESSAGES:
        _SYSTEM_MESSAGES[rubric.hash] = render(rubric.system_template, criteria=render_criteria(rubric),
                                               flag_kinds=FLAG_KINDS)
    return _SYSTEM_MESSAGES[rubric.hash]


def judge_messages(rubric: Rubric, expert: Expert, pair: Pair) -> list[dict[str, str]]:
    """The judge's messages: the rubric (system, same for every pair) and the pair (user)."""
    user = render(rubric.user_template, expert=expert, question=pair.question, answer=pair.answer)
    return [{"role": "system", "content": _system_message(rubric)}, {"role": "user", "content": user}]


def input_hash(messages: list[dict[str, str]]) -> str:
    """Hash of the pair-specific part the judge sees (the user message: pair + expert profile)."""
    return content_hash(messages[-1]["content"])


def judgment_from_verdict(verdict: BaseModel, rubric: Rubric, judge_model: str, pair_id: str,
                          seen_hash: str) -> Judgment:
    scores = {name: CriterionScore(score=getattr(verdict, name).score,
                                   rationale=getattr(verdict, name).rationale.strip())
              for name in rubric.criteria}
    flags = [SafetyFlag(kind=f.kind, quote=f.quote.strip()) for f in verdict.safety_flags]
    return Judgment(pair_id=pair_id, rubric_id=rubric.id, rubric_version=rubric.version,
                    rubric_hash=rubric.hash, judge_model=judge_model, status="ok", scores=scores,
                    safety_flags=flags, input_hash=seen_hash)


def failed_judgment(rubric: Rubric, judge_model: str, pair_id: str, seen_hash: str,
                    reason: str, error: str | None) -> Judgment:
    """A judge failure (parse error, refusal, timeout): its own status, never a low score."""
    detail = f"{reason}: {error}" if error else reason
    return Judgment(pair_id=pair_id, rubric_id=rubric.id, rubric_version=rubric.version,
                    rubric_hash=rubric.hash, judge_model=judge_model, status="failed",
                    error=detail[:2000], input_hash=seen_hash)
