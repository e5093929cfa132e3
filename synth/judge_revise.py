"""The revise loop: a pair rejected only for fixable reasons (misaligned, inauthentic, wrong
style) goes back to the generator with the judge's critique, up to judge.max_revisions rounds,
within the run's budget (stage "revise" in the ledger and call log). Every round is recorded on
the pair (Pair.revision, Pair.revision_history) and saved in judgments.sqlite, so a rerun
starts from the newest revision and never pays for a round twice.

The request is built with generate's own prompts (prompts/revise.j2 via GenerationPrompts)
and answered by the generator engine (or generate's offline question writer).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from synth.generate_prompts import GenerationPrompts, RevisedQuestion
from synth.judge_accept import critique
from synth.llm import LLMEngine, LLMRequest, LLMResult, open_engine, run_batch
from synth.offline_questions import OfflineQuestionWriter
from synth.records import Pair, utc_now
from synth.templates import content_hash

if TYPE_CHECKING:
    from synth.judge import JudgeContext, JudgeStats, PairState


def base_hash(pair: Pair) -> str:
    """Identifies the original pair a revision descends from (its first question and answer)."""
    first = pair.revision_history[0].get("previous_question", pair.question) if pair.revision_history \
        else pair.question
    return content_hash(first + "\x1f" + pair.answer)


def apply_saved_revisions(ctx: JudgeContext, pairs: list[Pair]) -> list[Pair]:
    """Each pair replaced by its newest saved revision (within judge.max_revisions), if any."""
    saved = ctx.store.latest_revisions(((p.pair_id, base_hash(p)) for p in pairs),
                                       max_revision=ctx.config.judge.max_revisions)
    return [saved[p.pair_id] if p.pair_id in saved and saved[p.pair_id].revision > p.revision else p
            for p in pairs]


def revisable(ctx: JudgeContext, states: list[PairState]) -> list[PairState]:
    """Fixable rejections pending revision: marked when their judgment was made (this run, or
    an earlier one that was killed, failed or stopped by the budget). A threshold change
    alone makes no judgment, so it revises nothing."""
    limit, pending = ctx.config.judge.max_revisions, ctx.store.pending()
    return [s for s in states if s.decision is not None and not s.decision.accepted
            and s.decision.fixable and s.pair.revision < limit and not s.notes
            and (s.pair.pair_id, s.seen_hash) in pending]


async def revise_round(ctx: JudgeContext, judge_engine: LLMEngine, states: list[PairState],
                       stats: JudgeStats) -> list[Pair]:
    """One round: revise every fixable rejected pair; returns the revised pairs."""
    todo = revisable(ctx, states)
    if not todo or judge_engine.budget_refused:
        return []
    prompts = GenerationPrompts.load(ctx.config, ctx.experts)
    by_id = {s.pair.pair_id: s for s in todo}
    revised: list[Pair] = []

    def on_result(result: LLMResult) -> None:
        state = by_id[result.item_id]
        if result.status == "ok" and isinstance(result.value, RevisedQuestion):
            pair = _revised_pair(ctx, state, result.value.question, prompts.revise_hash())
            ctx.store.save_revision(pair, base_hash(state.pair))
            ctx.store.clear_pending([(state.pair.pair_id, state.seen_hash)])
            revised.append(pair)
        else:
            state.notes.append(f"revise_failed:{result.reason or result.status}")

    requests = [_revise_request(ctx, prompts, s) for s in todo]
    async with open_engine(ctx.config.generator, ctx.run, ctx.config.budget, stage="revise",
                           services=judge_engine.services,
                           offline=OfflineQuestionWriter(prompts)) as engine:
        summary = await run_batch(engine, requests, RevisedQuestion, on_result, total=len(requests),
                                  description="revise", stage="revise", progress=ctx.progress)
    for state in todo:
        if state.pair.pair_id not in {p.pair_id for p in revised} and not state.notes:
            state.notes.append("revise_skipped:budget_exhausted")
    stats.revise_requests += summary.items
    stats.calls += summary.calls
    stats.spend_usd += summary.spend_usd
    stats.revised += len(revised)
    return revised


def _revise_request(ctx: JudgeContext, prompts: GenerationPrompts, state: PairState) -> LLMRequest:
    pair, expert = state.pair, ctx.experts.get(state.pair.expert)
    assert state.decision is not None
    text = state.critique = critique(state.judgment, state.decision, state.checks)
    offline = ctx.config.generator.provider == "offline"
    messages = [] if offline else prompts.revise_messages(
        expert, pair.answer, pair.question, pair.question_type, pair.persona or "someone", text)
    inputs = {"kind": "revise", "expert": pair.expert, "text": pair.answer, "concepts": pair.concepts,
              "question_type": pair.question_type, "persona": pair.persona, "question": pair.question,
              "revision": pair.revision + 1, "seed": pair.seed} if offline else {}
    return LLMRequest(item_id=pair.pair_id, messages=messages, template_hash=prompts.revise_hash(),
                      seed=pair.seed, offline_inputs=inputs)


def _revised_pair(ctx: JudgeContext, state: PairState, question: str, prompt_hash: str) -> Pair:
    pair = state.pair
    assert state.decision is not None
    entry = {
        "revision": str(pair.revision + 1), "previous_question": pair.question,
        "critique": state.critique, "reasons": ",".join(state.decision.reasons),
        "rubric_hash": ctx.rubric.hash, "judge_model": ctx.judge_model,
        "previous_prompt_hash": pair.prompt_hash, "generator_model": ctx.config.generator.model,
        "at": utc_now(),
    }
    return pair.model_copy(update={
        "question": question, "revision": pair.revision + 1, "prompt_hash": prompt_hash,
        "generator": ctx.config.generator.provider, "generator_model": ctx.config.generator.model,
        "revision_history": [*pair.revision_history, entry], "created_at": utc_now()})
