"""Prompts, variation plans and response models of question generation.

prompts/ (under generator.prompts_dir): system.j2 (shared system prompt), concepts.j2 (the
concept-extraction step, shared), generate/<expert>.j2 (one per expert), revise.j2 (the
judge's critique loop), offline/<expert>.j2 (offline provider), variation.yaml (personas,
voices, lengths). All loaded with synth.templates (strict); the prompt hash of a pair covers
every file that shaped its request.
"""
from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, create_model, field_validator

from synth.config import RunConfig
from synth.errors import ConfigError
from synth.experts import Expert, ExpertSet
from synth.files import read_yaml, validate_model
from synth.hashing import content_hash
from synth.templates import PromptTemplate, load_template
from synth.text.lexicon import load_lexicon

MIN_CONCEPTS, MAX_CONCEPTS = 2, 6
QUESTION_MAX_CHARS, CONCEPT_MAX_CHARS = 700, 80  # unsized (the offline writer) bounds
# Sized from generator.max_tokens (issue 17: a schema larger than max_tokens is an answer cut
# off): questions at 4 characters per token (Qwen3 reads questions in everyday words at 4.9, MedQuAD's
# medical questions at 4.1; tests/generate/test_schema_size.py), concepts at most 40 characters,
# and the JSON around them at a generous fixed cost.
CHARS_PER_TOKEN, SIZED_CONCEPT_CHARS = 4, 40
SET_JSON_TOKENS, QUESTION_JSON_TOKENS, CONCEPT_TOKENS = 10, 18, 14
MIN_QUESTION_CHARS = 120
_PLACEHOLDER = re.compile(r"\[[A-Z_]{2,}\]")  # redaction placeholders such as [NAME]
QuestionText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=12, max_length=700)]
Concept = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=80)]


class Variation(BaseModel):
    personas: list[str] = Field(min_length=1)
    voices: list[str] = Field(min_length=1)
    lengths: dict[str, str] = Field(min_length=1)
    length_weights: dict[str, float] = Field(default_factory=dict)
    backstory_rate: float = Field(0.35, ge=0, le=1)


class TypedQuestion(BaseModel):
    """One question and the type the generator chose for it (one of the expert's types)."""

    question_type: str
    question: QuestionText


class QuestionSetBase(BaseModel):
    """The generator's answer: key concepts first, then the K typed questions in plan order."""

    concepts: list[Concept]
    questions: list[TypedQuestion]

    @field_validator("questions")
    @classmethod
    def _distinct_and_clean(cls, questions: list[TypedQuestion]) -> list[TypedQuestion]:
        seen = set()
        for item in questions:
            q = item.question
            if "{{" in q or "}}" in q or _PLACEHOLDER.search(q):
                raise ValueError(f"question contains a template leftover or placeholder: {q!r}")
            key = " ".join(q.lower().split())
            if key in seen:
                raise ValueError(f"questions must all be different; repeated: {q!r}")
            seen.add(key)
        return questions


def question_chars(k: int, max_tokens: int | None) -> tuple[int, int]:
    """(question, concept) character bounds so K questions and MAX_CONCEPTS concepts at their
    bounds fit `max_tokens` (None: the unsized bounds)."""
    if max_tokens is None:
        return QUESTION_MAX_CHARS, CONCEPT_MAX_CHARS
    free = max_tokens - SET_JSON_TOKENS - k * QUESTION_JSON_TOKENS - MAX_CONCEPTS * CONCEPT_TOKENS
    chars = min(QUESTION_MAX_CHARS, max(0, free) // k * CHARS_PER_TOKEN)
    if chars < MIN_QUESTION_CHARS:
        need = max_tokens + (MIN_QUESTION_CHARS - chars) * k // CHARS_PER_TOKEN + 1
        raise ConfigError(f"generator.max_tokens {max_tokens} leaves {chars} characters per question for "
                          f"{k} questions and their concepts; use at least {need}", key="generator.max_tokens")
    return chars, SIZED_CONCEPT_CHARS


@functools.lru_cache(maxsize=64)
def question_set_model(k: int, types: tuple[str, ...], max_tokens: int | None = None) -> type[QuestionSetBase]:
    """The response model for K questions of the expert's types (exact count and enum, so
    guided decoding enforces both), string bounds sized from `max_tokens` (question_chars)."""
    question, concept = question_chars(k, max_tokens)
    text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=12, max_length=question)]
    typed = create_model("TypedQuestion", __base__=TypedQuestion, question_type=(Literal[types], ...),
                         question=(text, ...))
    word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=concept)]
    return create_model(  # type: ignore[call-overload,no-any-return]
        "QuestionSet", __base__=QuestionSetBase,
        concepts=(list[word], Field(min_length=1, max_length=MAX_CONCEPTS)),  # type: ignore[valid-type]
        questions=(list[typed], Field(min_length=k, max_length=k)))  # type: ignore[valid-type]


class RevisedQuestion(BaseModel):
    """A revision: the new question and its type (a revision may change the type)."""

    question_type: str
    question: QuestionText


@functools.lru_cache(maxsize=64)
def revised_question_model(types: tuple[str, ...]) -> type[RevisedQuestion]:
    return create_model(  # type: ignore[call-overload,no-any-return]
        "RevisedQuestion", __base__=RevisedQuestion, question_type=(Literal[types], ...))


@dataclass(frozen=True)
class Slot:
    """One planned question: its asker, voice and length (the generator chooses its type)."""

    persona: str
    voice: str
    length: str
    length_hint: str
    backstory: bool
    variant: int


def render(template: PromptTemplate, **values: Any) -> str:
    """Strict render (synth.templates: names a missing variable, compiles each template once)."""
    return template.render(**values)


class GenerationPrompts:
    def __init__(self, root: Path, experts: ExpertSet):
        self.root, self.experts = root, experts
        self.system = load_template(root / "system.j2")
        self.concepts = load_template(root / "concepts.j2")
        self.revise = load_template(root / "revise.j2")
        self.generate = {e.name: load_template(root / "generate" / f"{e.name}.j2") for e in experts.experts}
        self.offline = {e.name: load_template(root / "offline" / f"{e.name}.j2") for e in experts.experts}
        variation_path = root / "variation.yaml"
        self.variation: Variation = validate_model(Variation, read_yaml(variation_path),
                                                   str(variation_path))
        self.variation_hash = content_hash(variation_path.read_bytes())
        self.concept_step = render(self.concepts, min_concepts=MIN_CONCEPTS,
                                   max_concepts=MAX_CONCEPTS).strip()
        self._system: dict[str, str] = {}

    @classmethod
    def load(cls, config: RunConfig, experts: ExpertSet) -> GenerationPrompts:
        return cls(config.resolve(config.generator.prompts_dir), experts)

    def prompt_hash(self, expert: str, offline: bool = False) -> str:
        """Hash of every file that shapes this expert's generation request."""
        own = self.offline[expert] if offline else self.generate[expert]
        parts = f"{self.system.hash}|{self.concepts.hash}|{own.hash}|{self.variation_hash}"
        if offline:  # the offline writer also draws its concepts from the lexicon, types from cues
            parts += f"|{load_lexicon(self.root / 'concepts.yaml').hash}"
            parts += f"|{content_hash((self.root / 'question_types.yaml').read_bytes())}"
        return content_hash(parts)

    def revise_hash(self) -> str:
        return content_hash(f"{self.system.hash}|{self.revise.hash}")

    def plan(self, expert: Expert, k: int, seed: str) -> list[Slot]:
        """K varied slots for one segment, deterministic for a seed string."""
        rng, v = random.Random(seed), self.variation
        personas = rng.sample(v.personas, min(k, len(v.personas)))
        lengths = list(v.lengths)
        weights = [v.length_weights.get(name, 1.0) for name in lengths]
        slots = []
        for i in range(k):
            length = rng.choices(lengths, weights)[0]
            slots.append(Slot(personas[i % len(personas)], rng.choice(v.voices), length,
                              v.lengths[length], rng.random() < v.backstory_rate,
                              rng.randrange(1 << 16)))
        return slots

    def system_message(self, expert: Expert) -> str:
        if expert.name not in self._system:
            self._system[expert.name] = render(self.system, expert=expert).strip()
        return self._system[expert.name]

    def generation_messages(self, expert: Expert, text: str, slots: list[Slot]) -> list[dict[str, str]]:
        plan = [{**slot.__dict__, "length": slot.length_hint} for slot in slots]
        user = render(self.generate[expert.name], concept_instructions=self.concept_step, k=len(slots),
                      plan=plan, segment_text=text, expert=expert,
                      question_types=list(expert.question_types))
        return [{"role": "system", "content": self.system_message(expert)},
                {"role": "user", "content": user.strip()}]

    def revise_messages(self, expert: Expert, text: str, question: str, question_type: str,
                        persona: str, critique: str) -> list[dict[str, str]]:
        user = render(self.revise, segment_text=text, expert=expert, question=question,
                      question_type=question_type, persona=persona, critique=critique,
                      question_types=list(expert.question_types))
        return [{"role": "system", "content": self.system_message(expert)},
                {"role": "user", "content": user.strip()}]
