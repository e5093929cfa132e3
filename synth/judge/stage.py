"""The judge stage: automated checks, an LLM judge (or the offline heuristic judge), the accept
rule with the safety policy, and the revise loop. Pairs -> JudgedPairs (run_dir/judged.jsonl).

Only stale pairs are judged: those without an ok judgment for the current rubric hash, judge
model and input hash in judgments.sqlite. Judging goes through the same engine, response
cache, budget ledger and call log as generation (stage "judge", optional cap
budget.judge_max_usd). A judge failure (parse error, refusal, timeout) is stored with status
"failed", retried once in the run and again on the next run, and never counted as a low score.
"""
from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from pydantic import BaseModel

from synth.config import RunConfig
from synth.errors import BudgetExceeded
from synth.files import write_jsonl
from synth.generate.stale import REASON as STALE
from synth.generate.stale import segment_texts, stale_detail
from synth.judge.accept import decide
from synth.judge.base import JudgeContext, JudgeStats, PairState, judge_model_name
from synth.judge.checks import run_checks
from synth.judge.degenerate import config_plan
from synth.judge.offline import offline_verdict
from synth.judge.report import write_judge_report
from synth.judge.revise import apply_saved_revisions, revise_round, root_id
from synth.judge.verdict import (
    failed_judgment,
    input_hash,
    judge_messages,
    judgment_from_verdict,
    rubric_verdict_model,
    validation_context,
)
from synth.llm import LLMEngine, LLMRequest, LLMResult, open_engine, run_batch
from synth.records import JudgedPair, Judgment, Pair
from synth.rundir import RunDir
from synth.text.ray_map import on_cluster

FAILED_RETRY_PASSES = 1  # in-run retries of judge failures (the engine already re-asks)


class JudgeResult(list[JudgedPair]):
    """The judged pairs, plus what the run did (for `synth run` and `synth judge`)."""

    def __init__(self, items: list[JudgedPair], stats: JudgeStats, ctx: JudgeContext):
        super().__init__(items)
        self.stats, self.rubric_hash, self.judge_model = stats, ctx.rubric.hash, ctx.judge_model

    def summary(self) -> dict[str, Any]:
        accepted = sum(jp.accepted for jp in self)
        reasons = Counter(r for jp in self for r in jp.reasons)
        return {**vars(self.stats), "accepted": accepted, "rejected": len(self) - accepted,
                "rubric_hash": self.rubric_hash, "judge_model": self.judge_model,
                "reasons": dict(reasons.most_common())}


def run_judge(config: RunConfig, run: RunDir, pairs: list[Pair], *, progress: bool = True) -> JudgeResult:
    """Judge every stale pair, decide acceptance, revise what is fixable, write judged.jsonl.
    A pair whose segment changed since generation (stale_segment) is not judged or paid for."""
    pairs = unique_pairs(pairs)
    current = current_pairs(run, pairs)
    outdated = {p.pair_id for p in pairs} - {p.pair_id for p in current}
    # alignment is scored against the run's current pairs; the offline judge's name says so
    ctx = JudgeContext.open(config, run, progress, pool=alignment_pool(current))
    try:
        verdict_model_of(ctx)  # a judge.max_tokens too small for a verdict stops here, before any work
        with on_cluster(config.engine):  # engine.kind ray: the checks' encoding runs on the cluster
            states, stats = asyncio.run(_judge_and_revise(ctx, current))
    finally:
        ctx.store.close()
    stats.stale_segment = len(outdated)
    judged = [JudgedPair(pair=p, accepted=False, reasons=[STALE]) if p.pair_id in outdated
              else states[root_id(p)].judged_pair() for p in pairs]
    write_jsonl(run.judged, judged)
    result = JudgeResult(judged, stats, ctx)
    write_judge_report(run, judged, result.summary())
    if stats.not_judged:
        raise BudgetExceeded(f"judge budget reached: {stats.not_judged} of {len(pairs)} pairs not judged "
                             f"(written to judged.jsonl as not_judged:budget_exhausted); raise "
                             f"{_caps_set(config)} and rerun to resume")
    return result


def current_pairs(run: RunDir, pairs: list[Pair]) -> list[Pair]:
    """The pairs the judge reads: those whose segment is unchanged since generation."""
    texts = segment_texts(run)
    return [p for p in pairs if stale_detail(p, texts) is None]


def alignment_pool(pairs: list[Pair]) -> list[tuple[str, str]]:
    return [(p.question, p.answer) for p in pairs]


def run_judge_name(config: RunConfig, run: RunDir, pairs: list[Pair]) -> str:
    """The name the judge of `config` stores its verdicts under for these pairs (pairs.jsonl)."""
    return judge_model_name(config, alignment_pool(current_pairs(run, unique_pairs(pairs))))


def _caps_set(config: RunConfig) -> str:
    """The budget keys that may have stopped the judge (those set), e.g. "budget.max_tokens"."""
    budget = config.budget
    keys = [f"budget.{k}" for k in ("max_usd", "judge_max_usd", "max_tokens")
            if getattr(budget, k) is not None]
    return " or ".join(keys) or "the budget"


def unique_pairs(pairs: list[Pair]) -> list[Pair]:
    """One pair per root id (a repeated id is the same pair written twice: the first wins)."""
    seen: dict[str, Pair] = {}
    for pair in pairs:
        seen.setdefault(root_id(pair), pair)
    return list(seen.values())


async def _judge_and_revise(ctx: JudgeContext, pairs: list[Pair]) -> tuple[dict[str, PairState], JudgeStats]:
    stats = JudgeStats(pairs=len(pairs))
    config = ctx.config
    async with open_engine(config.judge, ctx.run, config.budget, stage="judge",
                           stage_cap=config.budget.judge_max_usd, offline=OfflineJudge(ctx),
                           engine=config.engine) as engine:
        states = await judge_pairs(ctx, engine, apply_saved_revisions(ctx, pairs), stats)
        for _ in range(config.judge.max_revisions):
            revised = await revise_round(ctx, engine, list(states.values()), stats)
            if not revised:
                break
            states.update(await judge_pairs(ctx, engine, revised, stats))
    stats.not_judged = sum(1 for s in states.values() if s.judgment is None)
    stats.failed = sum(1 for s in states.values() if s.judgment is not None and s.judgment.status == "failed")
    return states, stats


def build_states(ctx: JudgeContext, pairs: list[Pair]) -> list[PairState]:
    checks = run_checks([(p.question, p.answer) for p in pairs], ctx.config.checks, ctx.policy,
                        ctx.store, ctx.pool or None, progress=ctx.progress, plan=config_plan(ctx.config))
    states = []
    for pair, pair_checks in zip(pairs, checks):
        ctx.checks_by_text[(pair.question, pair.answer)] = pair_checks
        messages = judge_messages(ctx.rubric, ctx.experts.get(pair.expert), pair)
        states.append(PairState(pair, pair_checks, input_hash(messages), messages))
    return states


async def judge_pairs(ctx: JudgeContext, engine: LLMEngine, pairs: list[Pair],
                      stats: JudgeStats) -> dict[str, PairState]:
    """Checks for every pair; the judge for the stale ones; then the accept decision."""
    states = build_states(ctx, pairs)
    current = ctx.store.latest(ctx.rubric.hash, ctx.judge_model)
    for state in states:
        state.judgment = current.get((state.pair.pair_id, state.seen_hash))
    for _ in range(1 + FAILED_RETRY_PASSES):
        stale = [s for s in states if s.judgment is None or s.judgment.status == "failed"]
        if not stale or engine.budget_refused:
            break
        await _judge_batch(ctx, engine, stale, stats)
    for state in states:
        state.decision = decide(state.pair, state.judgment, state.checks, ctx.rubric, ctx.policy,
                                not_judged="not_judged:budget_exhausted")
    return {root_id(s.pair): s for s in states}


async def _judge_batch(ctx: JudgeContext, engine: LLMEngine, stale: list[PairState],
                       stats: JudgeStats) -> None:
    by_id = {s.pair.pair_id: s for s in stale}
    model = verdict_model_of(ctx)

    def on_result(result: LLMResult) -> None:
        state = by_id[result.item_id]
        judgment = _judgment_of(ctx, state, result)
        if judgment is not None:
            ctx.store.add(judgment)
            state.judgment = judgment
            _mark_if_revisable(ctx, state)

    requests = [_request(ctx, s) for s in stale]
    summary = await run_batch(engine, requests, model, on_result, total=len(requests),
                              description=f"judge ({ctx.judge_model})", stage="judge",
                              stage_cap=ctx.config.budget.judge_max_usd, progress=ctx.progress)
    stats.judge_requests += summary.items
    stats.calls += summary.calls
    stats.cached += summary.cached
    stats.spend_usd += summary.spend_usd
    stats.replicas_out.update(summary.replicas_out)


def _mark_if_revisable(ctx: JudgeContext, state: PairState) -> None:
    """A fresh fixable rejection is saved as pending at once, so a killed run still revises it."""
    decision = decide(state.pair, state.judgment, state.checks, ctx.rubric, ctx.policy)
    if decision.fixable and state.pair.revision < ctx.config.judge.max_revisions:
        ctx.store.add_pending([(state.pair.pair_id, state.seen_hash)])


def _request(ctx: JudgeContext, state: PairState) -> LLMRequest:
    pair = state.pair
    inputs = {"question": pair.question, "answer": pair.answer, "expert": pair.expert,
              "criteria": list(ctx.rubric.criteria)}
    return LLMRequest(item_id=pair.pair_id, messages=state.messages, template_hash=ctx.rubric.hash,
                      offline_inputs=inputs, validation_context=validation_context(pair))


OFFLINE_VERDICT_TOKENS = 4096  # the offline judge sends nothing: its rationales are bounded by this


def verdict_model_of(ctx: JudgeContext) -> type[BaseModel]:
    """The judge's response model, its strings sized from the judge's max_tokens."""
    judge = ctx.config.judge
    tokens = OFFLINE_VERDICT_TOKENS if judge.provider == "offline" else judge.max_tokens
    return rubric_verdict_model(ctx.rubric, tokens)


def _judgment_of(ctx: JudgeContext, state: PairState, result: LLMResult) -> Judgment | None:
    pair_id = state.pair.pair_id
    if result.status == "ok" and result.value is not None:
        return judgment_from_verdict(result.value, ctx.rubric, ctx.judge_model, pair_id, state.seen_hash)
    if result.status == "failed":
        return failed_judgment(ctx.rubric, ctx.judge_model, pair_id, state.seen_hash,
                               result.reason or "unknown", result.error)
    return None  # skipped_budget: not judged, no record


class OfflineJudge:
    """The engine's offline answerer for the judge: the heuristic verdict (judge_offline)."""

    def __init__(self, ctx: JudgeContext):
        self.ctx = ctx
        self.model = verdict_model_of(ctx)

    def __call__(self, request: LLMRequest) -> BaseModel:
        inputs = request.offline_inputs
        expert = self.ctx.experts.get(inputs["expert"])
        key = (inputs["question"], inputs["answer"])
        checks = self.ctx.checks_by_text.get(key) or run_checks(
            [key], self.ctx.config.checks, self.ctx.policy, self.ctx.store, self.ctx.pool or None,
            plan=config_plan(self.ctx.config))[0]
        verdict = offline_verdict(inputs["criteria"], inputs["question"], inputs["answer"], expert, checks)
        return self.model.model_validate(verdict)
