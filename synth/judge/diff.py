"""judge-diff: the accept/reject flips between two rubrics, from stored judgments only (no judge
call). Two rubrics with the same judgment hash (only thresholds or the accept rule differ)
share their judgments, so the diff shows exactly what the new accept rule changes."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from synth.config import RunConfig
from synth.experts import load_experts
from synth.judge.accept import Decision, decide
from synth.judge.base import JudgeContext
from synth.judge.checks import run_checks
from synth.judge.degenerate import config_plan
from synth.judge.revise import apply_saved_revisions
from synth.judge.rubric import Rubric, load_rubric
from synth.judge.safety import SafetyPolicy
from synth.judge.stage import alignment_pool, current_pairs, judge_model_name, unique_pairs
from synth.judge.store import JudgmentStore
from synth.judge.verdict import input_hash, judge_messages
from synth.records import Pair
from synth.rundir import RunDir


class RubricRef(BaseModel):
    path: str
    id: str
    version: str
    hash: str


class Flip(BaseModel):
    pair_id: str
    expert: str
    old_accepted: bool
    new_accepted: bool
    old_reasons: list[str]
    new_reasons: list[str]


class ExpertFlips(BaseModel):
    pairs: int = 0
    accept_to_reject: int = 0
    reject_to_accept: int = 0
    still_accepted: int = 0
    still_rejected: int = 0
    not_judged: int = 0  # no judgment under one of the two rubrics (run `synth judge` first)


class JudgeDiff(BaseModel):
    old: RubricRef
    new: RubricRef
    judge_model: str
    same_judgments: bool  # same judgment hash: only the accept rule differs
    experts: dict[str, ExpertFlips] = Field(default_factory=dict)
    flips: list[Flip] = Field(default_factory=list)

    def totals(self) -> ExpertFlips:
        total = ExpertFlips()
        for counts in self.experts.values():
            for name in ExpertFlips.model_fields:
                setattr(total, name, getattr(total, name) + getattr(counts, name))
        return total


def _ref(rubric: Rubric) -> RubricRef:
    return RubricRef(path=rubric.path, id=rubric.id, version=rubric.version, hash=rubric.hash)


def judge_diff(config: RunConfig, run: RunDir, pairs: list[Pair], old_path: str | Path,
               new_path: str | Path) -> JudgeDiff:
    old, new = load_rubric(old_path), load_rubric(new_path)
    experts = load_experts(config.resolve(config.experts))
    policy = SafetyPolicy.from_config(config.safety)
    pool = alignment_pool(current_pairs(run, unique_pairs(pairs)))  # as the judge scored them
    model = judge_model_name(config, pool)
    diff = JudgeDiff(old=_ref(old), new=_ref(new), judge_model=model, same_judgments=old.hash == new.hash)
    with JudgmentStore(run.judgments_db) as store:
        ctx = JudgeContext(config, run, new, experts, policy, store, model, progress=False)
        current = apply_saved_revisions(ctx, pairs)
        checks = run_checks([(p.question, p.answer) for p in current], config.checks, policy, store, pool,
                            plan=config_plan(config))
        stored = {r.hash: store.latest(r.hash, model) for r in (old, new)}
    for pair, pair_checks in zip(current, checks):
        counts = diff.experts.setdefault(pair.expert, ExpertFlips())
        counts.pairs += 1
        verdicts: list[Decision | None] = []
        for rubric in (old, new):
            seen = input_hash(judge_messages(rubric, experts.get(pair.expert), pair))
            judgment = stored[rubric.hash].get((pair.pair_id, seen))
            verdicts.append(None if judgment is None else decide(pair, judgment, pair_checks, rubric, policy))
        _count(diff, counts, pair, verdicts[0], verdicts[1])
    return diff


def _count(diff: JudgeDiff, counts: ExpertFlips, pair: Pair, before: Decision | None,
           after: Decision | None) -> None:
    if before is None or after is None:
        counts.not_judged += 1
        return
    if before.accepted == after.accepted:
        if before.accepted:
            counts.still_accepted += 1
        else:
            counts.still_rejected += 1
        return
    if before.accepted:
        counts.accept_to_reject += 1
    else:
        counts.reject_to_accept += 1
    diff.flips.append(Flip(pair_id=pair.pair_id, expert=pair.expert, old_accepted=before.accepted,
                           new_accepted=after.accepted, old_reasons=before.reasons,
                           new_reasons=after.reasons))
