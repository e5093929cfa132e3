"""The offline provider for generation: questions from key concepts and per-expert templates.

No model, no key, no cost: the segment's key concepts (synth.concepts) fill the question
templates of prompts/offline/<expert>.j2, one per planned slot (question type, persona,
backstory, seeded variant). Deterministic: the same segment, plan and seed give the same
questions. Pairs made this way record generator `offline`.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from synth.concepts import extract_concepts
from synth.generate_prompts import GenerationPrompts, RevisedQuestion, question_set_model, render
from synth.llm.types import LLMRequest

MAX_TRIES = 6
NO_SECOND_CONCEPT = "what I feel every day"


def _clean(text: str) -> str:
    return " ".join(text.split())


class OfflineQuestionWriter:
    """The engine's offline answerer for the generate and revise requests of this stage."""

    def __init__(self, prompts: GenerationPrompts):
        self.prompts = prompts

    def __call__(self, request: LLMRequest) -> BaseModel:
        inputs = request.offline_inputs
        if inputs.get("kind") == "revise":
            return self._revise(inputs)
        return self._generate(inputs)

    def _question(self, expert: str, slot: dict[str, Any], concepts: list[str], index: int,
                  variant: int) -> str:
        concept = concepts[index % len(concepts)]
        second = concepts[(index + 1) % len(concepts)] if len(concepts) > 1 else NO_SECOND_CONCEPT
        return _clean(render(self.prompts.offline[expert], question_type=slot["question_type"],
                             concept=concept, concept2=second, persona=slot["persona"],
                             backstory=slot["backstory"], variant=variant, length=slot["length"]))

    def _generate(self, inputs: dict[str, Any]) -> BaseModel:
        concepts = extract_concepts(inputs["text"])
        seen: set[str] = set()
        questions = []
        for i, slot in enumerate(inputs["slots"]):
            question = ""
            for attempt in range(MAX_TRIES):  # another variant or concept when one repeats
                question = self._question(inputs["expert"], slot, concepts, i + attempt,
                                          slot["variant"] + attempt)
                if question.lower() not in seen:
                    break
            seen.add(question.lower())
            questions.append(question)
        model = question_set_model(len(questions))
        return model(concepts=concepts, questions=questions)

    def _revise(self, inputs: dict[str, Any]) -> BaseModel:
        concepts = inputs["concepts"] or extract_concepts(inputs["text"])
        slot = {"question_type": inputs["question_type"], "persona": inputs["persona"] or "someone",
                "backstory": inputs["revision"] % 2 == 1, "length": "medium"}
        question = inputs["question"]
        for attempt in range(1, MAX_TRIES + 1):
            candidate = self._question(inputs["expert"], slot, concepts, attempt,
                                       inputs["seed"] + 7 * inputs["revision"] + attempt)
            if candidate.lower() != inputs["question"].lower():
                question = candidate
                break
        return RevisedQuestion(question=question)
