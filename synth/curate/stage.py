"""The curate stage: judged pairs -> train/val pairs per expert, every exclusion named.

Order: selection (the chosen generation sets, pairs of current segments only; synth.curate.select)
-> accept rule (judge verdict + automated checks + safety, as decided by the judge stage;
review decisions; per-expert confidence and length thresholds) -> dedup (exact, near,
semantic; synth.curate.dedup) -> per-expert quotas (synth.curate.balance) -> grouped, stratified,
seeded split (synth.curate.split) -> leak check -> files + distribution report (synth.curate.distribution).

Writes curated/{train,val}.jsonl (CuratedPair), curated/excluded.jsonl (ExcludedPair) and
curated/summary.json. Every input pair is in exactly one of the three files.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from synth.config import RunConfig
from synth.curate.balance import BalanceResult, Candidate, apply_quotas
from synth.curate.base import CurateResult
from synth.curate.dedup import DedupItem, DedupResult, deduplicate
from synth.curate.distribution import write_distribution_report
from synth.curate.report import curation_report
from synth.curate.select import select_pairs
from synth.curate.split import SplitItem, grouped_split
from synth.experts import ExpertSet, load_experts
from synth.files import atomic_write_text, read_jsonl, write_jsonl
from synth.records import CuratedPair, ExcludedPair, JudgedPair, ReviewDecision
from synth.rundir import RunDir


def load_review_decisions(run: RunDir) -> dict[str, ReviewDecision]:
    """pair id -> its latest review decision (review/decisions.jsonl, when present)."""
    decisions: dict[str, ReviewDecision] = {}
    for decision in read_jsonl(run.review_decisions, ReviewDecision):
        decisions[decision.pair_id] = decision
    return decisions


def load_curated(run: RunDir) -> list[CuratedPair]:
    return [
        p
        for split in ("train", "val")
        for p in read_jsonl(run.curated(split), CuratedPair)
    ]


def pair_scores(judged: JudgedPair) -> dict[str, float]:
    scores: dict[str, float] = {}
    if judged.judgment is not None and judged.judgment.status == "ok":
        scores = {name: float(v.score) for name, v in judged.judgment.scores.items()}
    scores.update(
        {
            f"check.{c.name}": float(c.score)
            for c in judged.checks
            if c.score is not None and not c.skipped
        }
    )
    return scores


def mean_judge_score(scores: dict[str, float]) -> float:
    values = [v for k, v in scores.items() if not k.startswith("check.")]
    return sum(values) / len(values) if values else 0.0


def _exclude(judged: JudgedPair, reason: str, detail: str = "") -> ExcludedPair:
    return ExcludedPair(
        pair_id=judged.pair.pair_id, expert=judged.pair.expert, reason=reason, detail=detail
    )


def accept_rule(
    judged: JudgedPair, experts: ExpertSet, review: ReviewDecision | None
) -> ExcludedPair | None:
    """The exclusion of one pair, or None when it is accepted."""
    pair = judged.pair
    if review is not None and review.decision == "reject":
        return _exclude(judged, "review_rejected", review.note or f"rejected by {review.reviewer}")
    if not judged.accepted:
        reasons = judged.reasons or ["judge_rejected"]
        return _exclude(judged, reasons[0], "; ".join(reasons))
    if pair.expert not in experts.names:
        return _exclude(
            judged, "unknown_expert", f"expert {pair.expert!r} is not in the experts file"
        )
    expert = experts.get(pair.expert)
    if pair.confidence is not None and pair.confidence < expert.min_confidence:
        return _exclude(
            judged, "low_confidence", f"{pair.confidence:.2f} < {expert.min_confidence}"
        )
    words = len(pair.answer.split())
    if words < expert.min_words:
        return _exclude(judged, "too_short", f"answer has {words} words < {expert.min_words}")
    if words > expert.max_words:
        return _exclude(judged, "too_long", f"answer has {words} words > {expert.max_words}")
    return None


def _screen(
    judged: Sequence[JudgedPair], experts: ExpertSet, decisions: dict[str, ReviewDecision]
) -> tuple[list[JudgedPair], list[ExcludedPair], int]:
    accepted, excluded, seen = [], [], set()
    overridden = 0
    for item in judged:
        pair_id = item.pair.pair_id
        if pair_id in seen:
            excluded.append(
                _exclude(item, "duplicate_pair_id", "the pair id appeared earlier in the input")
            )
            continue
        seen.add(pair_id)
        review = decisions.get(pair_id)
        overridden += bool(review and review.decision == "accept" and not item.accepted)
        exclusion = accept_rule(item, experts, review)
        (excluded.append(exclusion) if exclusion else accepted.append(item))
    return accepted, excluded, overridden


@dataclass
class _Stage:
    """What the steps of one curate run pass along."""

    config: RunConfig
    experts: ExpertSet
    scores: dict[str, dict[str, float]]
    excluded: list[ExcludedPair]

    def score(self, judged: JudgedPair) -> float:
        return mean_judge_score(self.scores[judged.pair.pair_id])


def _dedup(stage: _Stage, accepted: list[JudgedPair]) -> tuple[list[JudgedPair], DedupResult]:
    cfg = stage.config.curate
    items = [
        DedupItem(j.pair.pair_id, j.pair.segment_id, j.pair.question, j.pair.answer, stage.score(j))
        for j in accepted
    ]
    dedup = deduplicate(items, cfg.near_dup_threshold, cfg.semantic_dup_threshold, cfg.semantic)
    for j in accepted:
        if j.pair.pair_id in dedup.dropped:
            stage.excluded.append(_exclude(j, *dedup.dropped[j.pair.pair_id]))
    return [j for j in accepted if j.pair.pair_id not in dedup.dropped], dedup


def _balance(stage: _Stage, survivors: list[JudgedPair]) -> tuple[list[JudgedPair], BalanceResult]:
    quotas = stage.config.curate.quotas
    candidates = [Candidate(j.pair.pair_id, j.pair.expert, stage.score(j)) for j in survivors]
    balance = apply_quotas(candidates, quotas, stage.experts.names, stage.config.curate.seed)
    over = {c.key for c in balance.over_quota}
    for j in survivors:
        if j.pair.pair_id in over:
            detail = f"quota {quotas.get(j.pair.expert)} for {j.pair.expert}"
            stage.excluded.append(_exclude(j, "over_quota", detail))
    return [j for j in survivors if j.pair.pair_id not in over], balance


def _split(stage: _Stage, final: list[JudgedPair], links: list[tuple[str, str]]) -> CurateResult:
    cfg = stage.config.curate
    items = [SplitItem(j.pair.pair_id, j.pair.source_id, j.pair.expert) for j in final]
    side = grouped_split(items, cfg.val_fraction, cfg.seed, links)
    curated = [
        CuratedPair(pair=j.pair, split=side[j.pair.pair_id], scores=stage.scores[j.pair.pair_id])
        for j in final
    ]
    train = [c for c in curated if c.split == "train"]
    return CurateResult(train, [c for c in curated if c.split == "val"], stage.excluded)


def run_curate(config: RunConfig, run: RunDir, judged: list[JudgedPair]) -> CurateResult:
    """Accept rule, dedup, quotas, split; write curated/ and reports/distribution.html."""
    experts = load_experts(config.resolve(config.experts))
    decisions = load_review_decisions(run)
    selected, not_selected = select_pairs(config, run, judged)
    accepted, excluded, overridden = _screen(selected, experts, decisions)
    excluded = not_selected + excluded
    stage = _Stage(config, experts, {j.pair.pair_id: pair_scores(j) for j in accepted}, excluded)
    survivors, dedup = _dedup(stage, accepted)
    final, balance = _balance(stage, survivors)
    result = _split(stage, final, dedup.links)
    review = {"decisions": len(decisions), "accept_of_rejected_not_overridden": overridden}
    result.report = curation_report(config.curate, judged, result, dedup, balance, review)
    result.report["distribution"] = write_distribution_report(
        run, experts, result.train + result.val, result.excluded, dedup.answer_vectors,
        min_pairs=config.curate.min_pairs_warning, use_embeddings=config.curate.semantic,
    )  # fmt: skip
    _write(run, result)
    return result


def _write(run: RunDir, result: CurateResult) -> None:
    run.ensure("curated")
    write_jsonl(run.curated("train"), result.train)
    write_jsonl(run.curated("val"), result.val)
    write_jsonl(run.curated("excluded"), result.excluded)
    atomic_write_text(run.curate_summary, json.dumps(result.report, indent=2) + "\n")
