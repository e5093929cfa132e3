"""Judge rubrics (judges/*.yaml): criteria with anchored 1-5 scales, prompt templates and the
accept rule.

The rubric hash covers only what the judge sees (criteria, scales, prompt templates), so it
keys the stored judgments; the accept rule (thresholds, per-expert overrides, fixable criteria,
required checks) is applied afterwards and can change without a single judge call.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from synth.errors import ConfigError
from synth.files import read_yaml, validate_model
from synth.hashing import content_hash
from synth.templates import PromptTemplate, load_template

SCALE_LEVELS = (1, 2, 3, 4, 5)
# checks an accept rule may require; the safety screen always applies (config `safety`)
CHECK_NAMES = ("alignment", "lexical_overlap", "formatting", "question_length", "degenerate_question")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CriterionSpec(_Strict):
    description: str = Field(min_length=1)
    scale: dict[int, str]

    @field_validator("scale")
    @classmethod
    def _anchored_1_to_5(cls, scale: dict[int, str]) -> dict[int, str]:
        if tuple(sorted(scale)) != SCALE_LEVELS:
            raise ValueError(f"scale needs exactly the levels 1-5, got {sorted(scale)}")
        if any(not anchor.strip() for anchor in scale.values()):
            raise ValueError("every scale level needs an anchor text")
        return dict(sorted(scale.items()))


class PromptFiles(_Strict):
    system: str
    user: str


class AcceptRule(_Strict):
    thresholds: dict[str, int]
    experts: dict[str, dict[str, int]] = Field(default_factory=dict)
    fixable: list[str] = Field(default_factory=list)
    required_checks: list[str] = Field(default_factory=lambda: ["formatting", "degenerate_question"])


class RubricFile(_Strict):
    id: str = Field(min_length=1)
    version: str
    description: str = ""
    prompt: PromptFiles
    criteria: dict[str, CriterionSpec] = Field(min_length=1)
    accept: AcceptRule

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, v: object) -> object:
        return str(v) if isinstance(v, (int, float)) else v


@dataclass(frozen=True)
class Rubric:
    """A loaded rubric: the file's content, its prompt templates and the judgment hash."""

    path: str
    spec: RubricFile
    system_template: PromptTemplate
    user_template: PromptTemplate
    hash: str

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def criteria(self) -> dict[str, CriterionSpec]:
        return self.spec.criteria

    @property
    def accept(self) -> AcceptRule:
        return self.spec.accept

    def threshold(self, expert: str, criterion: str) -> int:
        override = self.accept.experts.get(expert, {})
        return override.get(criterion, self.accept.thresholds[criterion])


def load_rubric(path: str | Path) -> Rubric:
    """Load and check a rubric file; every error names the file and the key."""
    p = Path(path)
    data = read_yaml(p)
    if not isinstance(data, dict):
        raise ConfigError("top level must be a mapping", file=str(p))
    spec: RubricFile = validate_model(RubricFile, data, str(p))
    _check_references(spec, str(p))
    system = load_template(p.parent / spec.prompt.system)
    user = load_template(p.parent / spec.prompt.user)
    return Rubric(str(p), spec, system, user, judgment_hash(spec, system, user))


def judgment_hash(spec: RubricFile, system: PromptTemplate, user: PromptTemplate) -> str:
    """Hash of what the judge sees: criteria with their scales, and both prompt templates."""
    seen = {
        "criteria": {name: {"description": c.description, "scale": c.scale}
                     for name, c in spec.criteria.items()},
        "prompt": {"system": system.source, "user": user.source},
    }
    return content_hash(json.dumps(seen, sort_keys=False, ensure_ascii=False))


def _check_references(spec: RubricFile, file: str) -> None:
    for name in spec.criteria:
        if not _NAME.match(name):
            raise ConfigError("criterion names are lower_snake_case identifiers", file=file,
                              key=f"criteria.{name}")
    missing = [c for c in spec.criteria if c not in spec.accept.thresholds]
    if missing:
        raise ConfigError(f"no threshold for criterion {missing[0]!r}", file=file,
                          key="accept.thresholds")
    _check_scores(spec.accept.thresholds, spec, file, "accept.thresholds")
    for expert, overrides in spec.accept.experts.items():
        _check_scores(overrides, spec, file, f"accept.experts.{expert}")
    for i, name in enumerate(spec.accept.fixable):
        if name not in spec.criteria:
            raise ConfigError(f"unknown criterion {name!r}", file=file, key=f"accept.fixable.{i}")
    for i, name in enumerate(spec.accept.required_checks):
        if name not in CHECK_NAMES:
            hint = " (the safety screen always applies: see config safety)" if name == "safety_screen" else ""
            raise ConfigError(f"unknown check {name!r}; checks: {', '.join(CHECK_NAMES)}{hint}",
                              file=file, key=f"accept.required_checks.{i}")


def _check_scores(scores: dict[str, int], spec: RubricFile, file: str, where: str) -> None:
    for name, value in scores.items():
        if name not in spec.criteria:
            raise ConfigError(f"unknown criterion {name!r}", file=file, key=f"{where}.{name}")
        if value not in SCALE_LEVELS:
            raise ConfigError(f"threshold {value} is outside 1-5", file=file, key=f"{where}.{name}")


def check_expert_names(rubric: Rubric, experts: list[str]) -> None:
    """Per-expert overrides must name known experts."""
    for name in rubric.accept.experts:
        if name not in experts:
            raise ConfigError(f"unknown expert {name!r}; known: {', '.join(experts)}",
                              file=rubric.path, key=f"accept.experts.{name}")
