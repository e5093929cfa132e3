"""The revise loop's generator side: a new question for one pair, given the judge's critique.

    async with open_generation(config, run, services=judge_engine.services) as gen:
        outcome = await revise_pair(gen, pair, critique)   # Pair | GenerationFailure

Same generator engine, cache, budget ledger and call log as `synth generate` (stage
"revise" in the ledger and the call log). The new Pair keeps segment, expert, persona and
generation set; the generator may change the question type among the expert's types (when the
passage supports another better); it gets a new pair_id, `revision = old.revision + 1` and the old question plus
critique appended to `revision_history`. A failed or budget-refused call returns a
GenerationFailure (reason, e.g. budget_exhausted) and never a made-up question.
"""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from synth.config import RunConfig
from synth.experts import ExpertSet, load_experts
from synth.generate.offline import OfflineQuestionWriter
from synth.generate.prompts import GenerationPrompts, RevisedQuestion, revised_question_model
from synth.generate.sets import generation_set
from synth.llm import LLMEngine, LLMRequest, LLMServices, open_engine
from synth.records import GenerationFailure, Pair, RevisionRound, stable_id, utc_now
from synth.rundir import RunDir
from synth.text.concepts import extract_concepts

STAGE = "revise"


@dataclass
class GenerationContext:
    config: RunConfig
    engine: LLMEngine
    prompts: GenerationPrompts
    experts: ExpertSet
    generation: str  # the current config's generation set (synth.generate.sets)


@contextlib.asynccontextmanager
async def open_generation(config: RunConfig, run: RunDir,
                          services: LLMServices | None = None) -> AsyncIterator[GenerationContext]:
    """The generator engine (config.generator) and prompts, for revise_pair."""
    experts = load_experts(config.resolve(config.experts))
    prompts = GenerationPrompts.load(config, experts)
    async with open_engine(config.generator, run, config.budget, stage=STAGE,
                           offline=OfflineQuestionWriter(prompts), services=services,
                           engine=config.engine) as engine:
        yield GenerationContext(config, engine, prompts, experts,
                                generation_set(config, prompts).generation_id)


def revise_request(ctx: GenerationContext, pair: Pair, critique: str) -> LLMRequest:
    expert = ctx.experts.get(pair.expert)
    revision = pair.revision + 1
    offline = ctx.engine.is_offline
    messages = [] if offline else ctx.prompts.revise_messages(
        expert, pair.answer, pair.question, pair.question_type, pair.persona or "someone", critique)
    inputs = {"kind": "revise", "expert": expert.name, "text": pair.answer, "question": pair.question,
              "question_type": pair.question_type, "persona": pair.persona,
              "concepts": pair.concepts or extract_concepts(pair.answer), "seed": pair.seed,
              "revision": revision, "types": list(expert.question_types)} if offline else {}
    return LLMRequest(item_id=f"{pair.pair_id}:r{revision}", messages=messages,
                      template_hash=ctx.prompts.revise_hash(), seed=pair.seed + revision,
                      offline_inputs=inputs)


async def revise_pair(ctx: GenerationContext, pair: Pair, critique: str) -> Pair | GenerationFailure:
    """One revision round for one pair (see the module docstring)."""
    request = revise_request(ctx, pair, critique)
    types = tuple(ctx.experts.get(pair.expert).question_types)
    result = await ctx.engine.call(request, revised_question_model(types), stage=STAGE)
    if result.status != "ok" or not isinstance(result.value, RevisedQuestion):
        return GenerationFailure(segment_id=pair.segment_id, expert=pair.expert,
                                 reason=result.reason or "budget_exhausted", error=result.error or "",
                                 attempts=result.attempts, prompt_hash=request.template_hash,
                                 generation=pair.generation)
    question, question_type = result.value.question, result.value.question_type
    history = [*pair.revision_history,
               RevisionRound(question=pair.question, critique=critique, prompt_hash=pair.prompt_hash)]
    return pair.model_copy(update={
        "pair_id": stable_id(pair.segment_id, question, str(pair.revision + 1),
                             *([pair.generation] if pair.generation else [])),
        "question": question, "question_type": question_type, "revision": pair.revision + 1,
        "revision_history": history,
        "prompt_hash": request.template_hash, "generator": ctx.config.generator.provider,
        "generator_model": ctx.config.generator.model, "created_at": utc_now()})
