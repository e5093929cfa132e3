"""The offline provider for generation: questions from typed key concepts and per-expert shapes.

No model, no key, no cost. The segment's key concepts come from the domain lexicon
(synth.text.concepts, prompts/concepts.yaml), each with a kind (feeling, pattern, topic).
prompts/offline/<expert>.j2 renders the question shapes of the planned question type for one
concept in its typed slot; the seeded plan picks a shape, and questions with backstory open with
one of the persona openers of prompts/variation.yaml (long ones add a detail sentence). The
questions of one segment take different concepts where the segment has several, and a question
that names a concept twice ("healing from healing", a persona repeating the concept) is never
used. Deterministic: the same segment, plan and seed give the same questions. Pairs made this
way record generator `offline`.
"""
from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from synth.errors import TemplateError
from synth.files import read_yaml, validate_model
from synth.generate.prompts import (
    GenerationPrompts,
    question_set_model,
    render,
    revised_question_model,
)
from synth.generate.typecues import TypeCues, load_type_cues
from synth.llm.types import LLMRequest
from synth.text.concepts import concept_named, extract_typed, repeated_concepts
from synth.text.lexicon import KINDS, Concept, Lexicon, load_lexicon

LEXICON_FILE = "concepts.yaml"


def _one_persona_slot(opener: str) -> str:
    if opener.count("{persona}") != 1:
        raise ValueError(f"an opener holds {{persona}} exactly once: {opener!r}")
    return opener


class Backstories(BaseModel):
    """The offline provider's part of variation.yaml (the rest belongs to generate_prompts)."""

    backstory_openers: list[Annotated[str, AfterValidator(_one_persona_slot)]] = Field(min_length=1)
    backstory_details: list[Annotated[str, Field(min_length=8)]] = Field(min_length=1)


def _clean(text: str) -> str:
    return " ".join(text.split())


def _rotation(concepts: list[Concept], start: int, used: set[str]) -> list[Concept]:
    """Concepts from position start on (wrapping), those not used yet in this segment first."""
    order = [concepts[(start + k) % len(concepts)] for k in range(len(concepts))]
    return [c for c in order if c.name not in used] + [c for c in order if c.name in used]


class OfflineQuestionWriter:
    """The engine's offline answerer for the generate and revise requests of this stage."""

    def __init__(self, prompts: GenerationPrompts):
        self.prompts = prompts
        self.lexicon: Lexicon = load_lexicon(Path(prompts.root) / LEXICON_FILE)
        path = Path(prompts.root) / "variation.yaml"
        self.backstories: Backstories = validate_model(Backstories, read_yaml(path), str(path))
        self.cues: TypeCues = load_type_cues(Path(prompts.root))
        for expert in prompts.experts.experts:
            self.cues.check(expert.name, list(expert.question_types))

    def __call__(self, request: LLMRequest) -> BaseModel:
        inputs = request.offline_inputs
        if inputs.get("kind") == "revise":
            return self._revise(inputs)
        return self._generate(inputs)

    def slot_concepts(self, concepts: list[Concept]) -> list[Concept]:
        """The concepts that fill slots: the specific lexicon ones, else broad ones, else nouns."""
        known = [c for c in concepts if c.in_lexicon]
        return [c for c in known if c.name not in self.lexicon.broad] or known or concepts

    def shapes(self, expert: str, question_type: str, concept: Concept,
               second: Concept | None) -> list[str]:
        """Every question shape of this type for the concept in its typed slot."""
        values = {kind: concept.say if concept.kind == kind else "" for kind in KINDS}
        text = render(self.prompts.offline[expert], question_type=question_type,
                      concept=concept.say, second=second.say if second else "", **values)
        return [_clean(line) for line in text.splitlines() if line.strip()]

    def _backstory(self, slot: dict[str, Any], variant: int) -> str:
        length = slot.get("length", "medium")
        if length == "short" or not (slot.get("backstory") or length == "long"):
            return ""
        rng = random.Random(variant)
        opener = rng.choice(self.backstories.backstory_openers)
        opener = opener.replace("{persona}", slot["persona"])
        detail = rng.choice(self.backstories.backstory_details) if length == "long" else ""
        return _clean(f"{opener} {detail}")

    def _candidates(self, expert: str, slot: dict[str, Any], concepts: list[Concept], start: int,
                    used: set[str]) -> Iterator[tuple[Concept, str]]:
        """(concept, question) in preference order: concepts in rotation, shapes in seeded order."""
        variant = slot["variant"]
        backstory = self._backstory(slot, variant)
        for concept in _rotation(concepts, start, used):
            second = next((c for c in _rotation(concepts, start + 1, set())
                           if c.name != concept.name and c.kind == concept.kind), None)
            lines = self.shapes(expert, slot["question_type"], concept, second)
            for k in range(len(lines)):
                line = lines[(variant + k) % len(lines)]
                yield concept, _clean(f"{backstory} {line}")
                if backstory:
                    yield concept, line  # the same shape without the backstory

    def _question(self, expert: str, slot: dict[str, Any], concepts: list[Concept], start: int,
                  used: set[str], taken: set[str]) -> tuple[Concept, str]:
        """The first candidate that names no concept twice and is new to this segment."""
        first = None
        for concept, question in self._candidates(expert, slot, concepts, start, used):
            first = first or (concept, question)
            if question.lower() not in taken and not repeated_concepts(question, self.lexicon):
                return concept, question
        if first is None:
            raise TemplateError(f"renders no question for type {slot['question_type']!r}",
                                file=self.prompts.offline[expert].path)
        return first

    def _generate(self, inputs: dict[str, Any]) -> BaseModel:
        """Each question takes the next type the segment supports (by its concept cues)."""
        extracted = extract_typed(inputs["text"], lexicon=self.lexicon)
        concepts = self.slot_concepts(extracted)
        types = self.cues.supported(inputs["expert"], inputs["types"], inputs["text"],
                                    [c.name for c in extracted])
        used: set[str] = set()
        taken: set[str] = set()
        questions = []
        first = inputs["slots"][0]["variant"] % len(types) if inputs["slots"] else 0  # seeded start
        for i, slot in enumerate(inputs["slots"]):
            start = i + slot["variant"] % 2  # the top two concepts lead in seeded order
            typed = {**slot, "question_type": types[(first + i) % len(types)]}
            concept, question = self._question(inputs["expert"], typed, concepts, start, used, taken)
            used.add(concept.name)
            taken.add(question.lower())
            questions.append({"question_type": typed["question_type"], "question": question})
        model = question_set_model(len(questions), tuple(inputs["types"]))
        return model(concepts=[c.name for c in extracted], questions=questions)

    def _revise_concepts(self, inputs: dict[str, Any]) -> list[Concept]:
        named = [concept_named(n, self.lexicon) for n in inputs.get("concepts") or []]
        if not any(c.in_lexicon for c in named):  # concepts of a model: re-read the text
            named = extract_typed(inputs["text"], lexicon=self.lexicon)
        return self.slot_concepts(named)

    def _revise(self, inputs: dict[str, Any]) -> BaseModel:
        """Another concept and shape than the rejected question (backstory every other round);
        the type stays when the segment supports it, else the best supported one."""
        revision = inputs["revision"]
        supported = self.cues.supported(inputs["expert"], inputs["types"], inputs["text"],
                                        list(inputs.get("concepts") or []))
        kind = inputs["question_type"] if inputs["question_type"] in supported else supported[0]
        slot = {"question_type": kind, "persona": inputs["persona"] or "someone",
                "backstory": revision % 2 == 1, "length": "medium",
                "variant": inputs["seed"] + 7 * revision}
        old = inputs["question"].lower()
        concepts = self._revise_concepts(inputs)
        _, question = self._question(inputs["expert"], slot, concepts, revision, set(), {old})
        return revised_question_model(tuple(inputs["types"]))(question_type=kind, question=question)
