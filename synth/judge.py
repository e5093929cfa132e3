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
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from synth.checks import PairChecks, run_checks
from synth.config import RunConfig
from synth.errors import BudgetExceeded, ConfigError
from synth.experts import ExpertSet, load_experts
from synth.judge_accept import Decision, decide
from synth.judge_offline import OFFLINE_MODEL, offline_verdict, unsupported
from synth.judge_report import write_judge_report
from synth.judge_revise import apply_saved_revisions, revise_round, root_id
from synth.judge_store import JudgmentStore
from synth.judge_verdict import (
    failed_judgment,
    input_hash,
    judge_messages,
    judgment_from_verdict,
    rubric_verdict_model,
)
from synth.llm import LLMEngine, LLMRequest, LLMResult, open_engine, run_batch
from synth.records import JudgedPair, Judgment, Pair
from synth.rubric import Rubric, check_expert_names, load_rubric
from synth.rundir import RunDir, write_jsonl
from synth.safety import SafetyPolicy

FAILED_RETRY_PASSES = 1  # in-run retries of judge failures (the engine already re-asks)


def judge_model_name(config: RunConfig) -> str:
    return OFFLINE_MODEL if config.judge.provider == "offline" else config.judge.model


@dataclass
class JudgeContext:
    config: RunConfig
    run: RunDir
    rubric: Rubric
    experts: ExpertSet
    policy: SafetyPolicy
    store: JudgmentStore
    judge_model: str
    progress: bool = True
    checks_by_text: dict[tuple[str, str], PairChecks] = field(default_factory=dict)

    @classmethod
    def open(cls, config: RunConfig, run: RunDir, progress: bool = True) -> JudgeContext:
        rubric = load_rubric(config.resolve(config.judge.rubric))
        experts = load_experts(config.resolve(config.experts))
        check_expert_names(rubric, experts.names)
        if config.judge.provider == "offline" and unsupported(list(rubric.criteria)):
            raise ConfigError(f"the offline judge has no heuristic for criteria "
                              f"{unsupported(list(rubric.criteria))}; use a model judge",
                              file=rubric.path, key="criteria")
        policy = SafetyPolicy.from_config(config.safety)
        return cls(config, run, rubric, experts, policy, JudgmentStore(run.judgments_db),
                   judge_model_name(config), progress)


@dataclass
class PairState:
    """One pair as it stands: its checks, what the judge saw, its judgment and decision."""

    pair: Pair
    checks: PairChecks
    seen_hash: str
    messages: list[dict[str, str]]
    judgment: Judgment | None = None
    decision: Decision | None = None
    notes: list[str] = field(default_factory=list)  # revise_failed:<why>, revise_skipped:<why>
    critique: str = ""  # what the revise request told the generator

    def judged_pair(self) -> JudgedPair:
        assert self.decision is not None
        reasons = self.decision.reasons + ([] if self.decision.accepted else self.notes)
        return JudgedPair(pair=self.pair, judgment=self.judgment, checks=self.checks.results,
                          accepted=self.decision.accepted, reasons=reasons)


@dataclass
class JudgeStats:
    pairs: int = 0
    judge_requests: int = 0  # judge items sent to the engine (0 when nothing was stale)
    calls: int = 0  # HTTP requests the judge engine sent (retries and re-asks included)
    cached: int = 0
    failed: int = 0
    not_judged: int = 0
    revised: int = 0
    revise_requests: int = 0
    spend_usd: float = 0.0


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
    """Judge every stale pair, decide acceptance, revise what is fixable, write judged.jsonl."""
    ctx = JudgeContext.open(config, run, progress)
    pairs = unique_pairs(pairs)
    try:
        states, stats = asyncio.run(_judge_and_revise(ctx, pairs))
    finally:
        ctx.store.close()
    judged = [states[root_id(p)].judged_pair() for p in pairs]
    write_jsonl(run.path("judged.jsonl"), judged)
    result = JudgeResult(judged, stats, ctx)
    write_judge_report(run, judged, result.summary())
    if stats.not_judged:
        raise BudgetExceeded(f"judge budget reached: {stats.not_judged} of {len(pairs)} pairs not judged "
                             f"(written to judged.jsonl as not_judged:budget_exhausted); raise "
                             f"budget.max_usd or budget.judge_max_usd and rerun to resume")
    return result


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
                           stage_cap=config.budget.judge_max_usd, offline=OfflineJudge(ctx)) as engine:
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
                        ctx.store)
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
    model = rubric_verdict_model(ctx.rubric)

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
                      offline_inputs=inputs)


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
        self.model = rubric_verdict_model(ctx.rubric)

    def __call__(self, request: LLMRequest) -> BaseModel:
        inputs = request.offline_inputs
        expert = self.ctx.experts.get(inputs["expert"])
        key = (inputs["question"], inputs["answer"])
        checks = self.ctx.checks_by_text.get(key) or run_checks(
            [key], self.ctx.config.checks, self.ctx.policy, self.ctx.store)[0]
        verdict = offline_verdict(inputs["criteria"], inputs["question"], inputs["answer"], expert, checks)
        return self.model.model_validate(verdict)
