"""Shared types of the judge stage: the context a judging run holds, one pair's state, the
run's counters. Siblings (stage, revise, diff) import these from here."""
from __future__ import annotations

from dataclasses import dataclass, field

from synth.config import RunConfig
from synth.errors import ConfigError
from synth.experts import ExpertSet, load_experts
from synth.hashing import content_hash
from synth.judge.accept import Decision
from synth.judge.checks import PairChecks
from synth.judge.offline import OFFLINE_HEURISTICS, OFFLINE_MODEL, unsupported
from synth.judge.rubric import Rubric, check_expert_names, load_rubric
from synth.judge.safety import SafetyPolicy
from synth.judge.store import JudgmentStore
from synth.records import JudgedPair, Judgment, Pair
from synth.rundir import RunDir


def judge_model_name(config: RunConfig, pool: list[tuple[str, str]] | None = None) -> str:
    """The judge's name in judgments.sqlite. A model judge reads only the pair, so its name is
    the model's. The offline judge's scores are made from the automated checks, so its name
    carries their fingerprint: after a change to the checks (their config, the safety policy,
    the advice bank, the encoder or the heuristics) or to the alignment pool they score
    against (`pool`: the run's current pairs, so a new generation set changes every margin),
    the stored offline scores are stale and are made again, never reused."""
    if config.judge.provider != "offline":
        return config.judge.model
    return f"{OFFLINE_MODEL}+checks-{checks_fingerprint(config, pool or [])}"


def pool_fingerprint(pool: list[tuple[str, str]]) -> str:
    """The alignment pool as a set of (question, answer): order and repeats do not matter."""
    return content_hash("\x1e".join(sorted({f"{q}\x1f{a}" for q, a in pool})))


def checks_fingerprint(config: RunConfig, pool: list[tuple[str, str]]) -> str:
    from synth.judge.degenerate import config_plan
    from synth.judge.screens import screen_fingerprint

    parts = [OFFLINE_HEURISTICS, screen_fingerprint(config.safety),  # safety, bank, encoder, screen code
             config.checks.model_dump_json(), pool_fingerprint(pool),
             content_hash(repr(sorted(config_plan(config))))]  # what a question must not echo
    return content_hash("\x1f".join(parts))[:8]


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
    pool: list[tuple[str, str]] = field(default_factory=list)  # the run's pairs (alignment pool)

    @classmethod
    def open(cls, config: RunConfig, run: RunDir, progress: bool = True,
             pool: list[tuple[str, str]] | None = None) -> JudgeContext:
        rubric = load_rubric(config.resolve(config.judge.rubric))
        experts = load_experts(config.resolve(config.experts))
        check_expert_names(rubric, experts.names)
        if config.judge.provider == "offline" and unsupported(list(rubric.criteria)):
            raise ConfigError(f"the offline judge has no heuristic for criteria "
                              f"{unsupported(list(rubric.criteria))}; use a model judge",
                              file=rubric.path, key="criteria")
        policy = SafetyPolicy.from_config(config.safety)
        return cls(config, run, rubric, experts, policy, JudgmentStore(run.judgments_db),
                   judge_model_name(config, pool), progress, pool=list(pool or []))


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
    stale_segment: int = 0  # pairs whose segment changed since generation: not judged, not paid for
    revised: int = 0
    revise_requests: int = 0
    revise_calls: int = 0  # HTTP requests the revisions sent to the generator (re-asks included)
    spend_usd: float = 0.0
    replicas_out: dict[str, int] = field(default_factory=dict)  # judge replica url -> times taken out
