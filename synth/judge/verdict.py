"""What the judge is asked and what it must answer: messages from the rubric's templates, and
a pydantic response model built from the rubric's criteria (a score and a rationale each, plus
safety flags with the quoted sentence)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from synth.experts import Expert
from synth.generate.prompts import render  # strict render, each template compiled once
from synth.hashing import content_hash
from synth.judge.rubric import Rubric
from synth.records import CriterionScore, Judgment, Pair, SafetyFlag

FLAG_KINDS = ("self_harm", "medical_advice", "abuse", "other")


class CriterionVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=5, description="1-5 on the criterion's anchored scale")
    rationale: str = Field(min_length=1, max_length=800, description="one or two sentences")


class FlagVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["self_harm", "medical_advice", "abuse", "other"]
    quote: str = Field(min_length=1, max_length=1000, description="the unsafe sentence, verbatim")


@lru_cache(maxsize=32)
def verdict_model(criteria: tuple[str, ...]) -> type[BaseModel]:
    """The structured verdict for these criteria: one CriterionVerdict field per criterion."""
    fields: dict[str, Any] = {name: (CriterionVerdict, ...) for name in criteria}
    fields["safety_flags"] = (list[FlagVerdict], Field(default=[], max_length=20))
    return create_model("JudgeVerdict", __config__=ConfigDict(extra="forbid"), **fields)


def rubric_verdict_model(rubric: Rubric) -> type[BaseModel]:
    return verdict_model(tuple(rubric.criteria))


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
