"""The revise loop: a pair rejected only for fixable reasons (misaligned, inauthentic, wrong
style) goes back to the generator with the judge's critique, up to judge.max_revisions rounds,
within the run's budget. The generator side is generate's own `synth.revise.revise_pair` (same
engine, cache, budget ledger and call log; stage "revise"); a revised pair gets a new pair id.

Every round is recorded on the pair (Pair.revision, Pair.revision_history: the previous
question, the critique, and here also the previous and root pair ids, the reasons, the rubric
hash and judge model) and saved in judgments.sqlite under the root pair id (the id in
pairs.jsonl), so a rerun starts from the newest revision and never pays for a round twice.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from synth.generate.revise import open_generation, revise_pair
from synth.hashing import content_hash
from synth.judge.accept import critique
from synth.llm import LLMEngine
from synth.llm.batch import make_progress
from synth.records import GenerationFailure, Pair

if TYPE_CHECKING:
    from synth.judge.base import JudgeContext, JudgeStats, PairState


def root_id(pair: Pair) -> str:
    """The id of the pair in pairs.jsonl that this pair is a revision of (itself if none)."""
    if pair.revision_history:
        return pair.revision_history[0].root_pair_id or pair.pair_id
    return pair.pair_id


def base_hash(pair: Pair) -> str:
    """Identifies the original pair a revision descends from (its first question and answer)."""
    first = pair.revision_history[0].question if pair.revision_history else pair.question
    return content_hash(first + "\x1f" + pair.answer)


def apply_saved_revisions(ctx: JudgeContext, pairs: list[Pair]) -> list[Pair]:
    """Each pair replaced by its newest saved revision (within judge.max_revisions), if any."""
    saved = ctx.store.latest_revisions(((root_id(p), base_hash(p)) for p in pairs),
                                       max_revision=ctx.config.judge.max_revisions)
    return [saved[root_id(p)] if root_id(p) in saved and saved[root_id(p)].revision > p.revision
            else p for p in pairs]


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
    """One round: revise every pending fixable rejection; returns the revised pairs."""
    todo = revisable(ctx, states)
    if not todo or judge_engine.budget_refused:
        return []
    ledger = judge_engine.services.ledger
    spent_before = ledger.committed("revise")
    async with open_generation(ctx.config, ctx.run, services=judge_engine.services) as gen:
        todo = _current_set_only(todo, gen.generation)
        with make_progress(ctx.progress) as bar:
            task = bar.add_task("revise", total=len(todo), failed=0, spend=0.0)

            async def one(state: PairState) -> Pair | None:
                assert state.decision is not None
                state.critique = critique(state.judgment, state.decision, state.checks)
                outcome = await revise_pair(gen, state.pair, state.critique)
                bar.update(task, advance=1, spend=ledger.committed("revise") - spent_before)
                return _settle(ctx, state, outcome)

            outcomes = await asyncio.gather(*(one(s) for s in todo))
        stats.revise_calls += gen.engine.calls_sent
    revised = [p for p in outcomes if p is not None]
    stats.revise_requests += len(todo)
    stats.revised += len(revised)
    stats.spend_usd += ledger.committed("revise") - spent_before
    return revised


def _current_set_only(todo: list[PairState], generation: str) -> list[PairState]:
    """Only the current config's generation set is revised (its generator wrote the pairs);
    pairs of other sets keep their verdict, noted revise_skipped:other_generation."""
    for state in todo:
        if state.pair.generation not in (None, generation):
            state.notes.append("revise_skipped:other_generation")
    return [s for s in todo if s.pair.generation in (None, generation)]


def _settle(ctx: JudgeContext, state: PairState, outcome: Pair | GenerationFailure) -> Pair | None:
    if isinstance(outcome, GenerationFailure):
        kind = "revise_skipped" if outcome.reason == "budget_exhausted" else "revise_failed"
        state.notes.append(f"{kind}:{outcome.reason}")
        return None
    pair = _annotated(ctx, state, outcome)
    ctx.store.save_revision(pair, root_id(state.pair), base_hash(state.pair))
    ctx.store.clear_pending([(state.pair.pair_id, state.seen_hash)])
    return pair


def _annotated(ctx: JudgeContext, state: PairState, revised: Pair) -> Pair:
    """The revised pair with the judge's side of this round added to its history entry."""
    assert state.decision is not None
    entry = revised.revision_history[-1].model_copy(update={
        "previous_pair_id": state.pair.pair_id, "root_pair_id": root_id(state.pair),
        "reasons": ",".join(state.decision.reasons), "rubric_hash": ctx.rubric.hash,
        "judge_model": ctx.judge_model})
    return revised.model_copy(update={"revision_history": [*revised.revision_history[:-1], entry]})
