"""The curate stage: judged pairs -> train/val pairs per expert, every exclusion named.

Order: accept rule (judge verdict + automated checks + safety, as decided by the judge stage;
review decisions; per-expert confidence and length thresholds) -> dedup (exact, near,
semantic; synth.curate_dedup) -> per-expert quotas (synth.balance) -> grouped, stratified,
seeded split (synth.split) -> leak check -> files + distribution report (synth.analysis).

Writes curated/{train,val}.jsonl (CuratedPair), curated/excluded.jsonl (ExcludedPair) and
curated/summary.json. Every input pair is in exactly one of the three files.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from synth.balance import Candidate, apply_quotas
from synth.config import RunConfig
from synth.curate_dedup import DedupItem, deduplicate, near_duplicate_links
from synth.experts import ExpertSet, load_experts
from synth.records import CuratedPair, ExcludedPair, JudgedPair, ReviewDecision
from synth.rundir import RunDir, atomic_write_text, read_jsonl, write_jsonl
from synth.split import SplitItem, crossing_links, grouped_split, videos_on_both_sides


@dataclass
class CurateResult:
    train: list[CuratedPair]
    val: list[CuratedPair]
    excluded: list[ExcludedPair]
    report: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"train": len(self.train), "val": len(self.val), "excluded": len(self.excluded),
                "semantic_dedup": self.report.get("dedup", {}).get("semantic", "")}


def load_review_decisions(run: RunDir) -> dict[str, ReviewDecision]:
    """pair id -> its latest review decision (review/decisions.jsonl, when present)."""
    decisions: dict[str, ReviewDecision] = {}
    for decision in read_jsonl(run.path("review", "decisions.jsonl"), ReviewDecision):
        decisions[decision.pair_id] = decision
    return decisions


def load_curated(run: RunDir) -> list[CuratedPair]:
    return [p for split in ("train", "val") for p in read_jsonl(run.path("curated", f"{split}.jsonl"), CuratedPair)]


def pair_scores(judged: JudgedPair) -> dict[str, float]:
    scores: dict[str, float] = {}
    if judged.judgment is not None and judged.judgment.status == "ok":
        scores = {name: float(v.score) for name, v in judged.judgment.scores.items()}
    scores.update({f"check.{c.name}": float(c.score) for c in judged.checks
                   if c.score is not None and not c.skipped})
    return scores


def mean_judge_score(scores: dict[str, float]) -> float:
    values = [v for k, v in scores.items() if not k.startswith("check.")]
    return sum(values) / len(values) if values else 0.0


def _exclude(judged: JudgedPair, reason: str, detail: str = "") -> ExcludedPair:
    return ExcludedPair(pair_id=judged.pair.pair_id, expert=judged.pair.expert, reason=reason, detail=detail)


def accept_rule(judged: JudgedPair, experts: ExpertSet, review: ReviewDecision | None) -> ExcludedPair | None:
    """The exclusion of one pair, or None when it is accepted."""
    pair = judged.pair
    if review is not None and review.decision == "reject":
        return _exclude(judged, "review_rejected", review.note or f"rejected by {review.reviewer}")
    if not judged.accepted:
        reasons = judged.reasons or ["judge_rejected"]
        return _exclude(judged, reasons[0], "; ".join(reasons))
    if pair.expert not in experts.names:
        return _exclude(judged, "unknown_expert", f"expert {pair.expert!r} is not in the experts file")
    expert = experts.get(pair.expert)
    if pair.confidence is not None and pair.confidence < expert.min_confidence:
        return _exclude(judged, "low_confidence", f"{pair.confidence:.2f} < {expert.min_confidence}")
    words = len(pair.answer.split())
    if words < expert.min_words:
        return _exclude(judged, "too_short", f"answer has {words} words < {expert.min_words}")
    if words > expert.max_words:
        return _exclude(judged, "too_long", f"answer has {words} words > {expert.max_words}")
    return None


def _screen(judged: Sequence[JudgedPair], experts: ExpertSet, decisions: dict[str, ReviewDecision]
            ) -> tuple[list[JudgedPair], list[ExcludedPair], int]:
    accepted, excluded, seen = [], [], set()
    overridden = 0
    for item in judged:
        pair_id = item.pair.pair_id
        if pair_id in seen:
            excluded.append(_exclude(item, "duplicate_pair_id", "the pair id appeared earlier in the input"))
            continue
        seen.add(pair_id)
        review = decisions.get(pair_id)
        overridden += bool(review and review.decision == "accept" and not item.accepted)
        exclusion = accept_rule(item, experts, review)
        (excluded.append(exclusion) if exclusion else accepted.append(item))
    return accepted, excluded, overridden


def run_curate(config: RunConfig, run: RunDir, judged: list[JudgedPair]) -> CurateResult:
    experts = load_experts(config.resolve(config.experts))
    cfg = config.curate
    decisions = load_review_decisions(run)
    accepted, excluded, overridden = _screen(judged, experts, decisions)
    scores = {j.pair.pair_id: pair_scores(j) for j in accepted}
    dedup = deduplicate([DedupItem(j.pair.pair_id, j.pair.segment_id, j.pair.question, j.pair.answer,
                                   mean_judge_score(scores[j.pair.pair_id])) for j in accepted],
                        cfg.near_dup_threshold, cfg.semantic_dup_threshold, cfg.semantic)
    survivors = [j for j in accepted if j.pair.pair_id not in dedup.dropped]
    excluded += [_exclude(j, *dedup.dropped[j.pair.pair_id]) for j in accepted if j.pair.pair_id in dedup.dropped]
    balance = apply_quotas([Candidate(j.pair.pair_id, j.pair.expert, mean_judge_score(scores[j.pair.pair_id]))
                            for j in survivors], cfg.quotas, experts.names, cfg.seed)
    over = {c.key for c in balance.over_quota}
    excluded += [_exclude(j, "over_quota", f"quota {cfg.quotas.get(j.pair.expert)} for {j.pair.expert}")
                 for j in survivors if j.pair.pair_id in over]
    final = [j for j in survivors if j.pair.pair_id not in over]
    items = [SplitItem(j.pair.pair_id, j.pair.source_id, j.pair.expert) for j in final]
    side = grouped_split(items, cfg.val_fraction, cfg.seed, dedup.links)
    curated = [CuratedPair(pair=j.pair, split=side[j.pair.pair_id], scores=scores[j.pair.pair_id]) for j in final]
    result = CurateResult([c for c in curated if c.split == "train"], [c for c in curated if c.split == "val"],
                          excluded)
    result.report = _report(config, judged, result, items, side, dedup, balance, overridden, len(decisions))
    _write(run, result)
    _write_distribution(config, run, experts, result, dedup.answer_vectors)
    return result


def _report(config: RunConfig, judged: Sequence[JudgedPair], result: CurateResult, items: list[SplitItem],
            side: dict[str, str], dedup: Any, balance: Any, overridden: int, decisions: int) -> dict[str, Any]:
    cfg = config.curate
    final = result.train + result.val
    near_links = near_duplicate_links([c.pair.question for c in final], [c.pair.answer for c in final],
                                      [c.pair.pair_id for c in final], cfg.near_dup_threshold)
    by_expert: dict[str, dict[str, Any]] = {}
    for name, b in balance.experts.items():
        by_expert[name] = {"input": 0, "train": 0, "val": 0, "excluded": 0, "quota": b.quota,
                           "shortfall": b.shortfall, "after_dedup": b.available}
    for j in judged:
        by_expert.setdefault(j.pair.expert, {"input": 0, "train": 0, "val": 0, "excluded": 0})["input"] += 1
    for c in final:
        by_expert[c.pair.expert][c.split] += 1
    for e in result.excluded:
        by_expert.setdefault(e.expert, {"input": 0, "train": 0, "val": 0, "excluded": 0})["excluded"] += 1
    warnings = [f"{name}: only {row['train'] + row['val']} pairs (< {cfg.min_pairs_warning})"
                for name, row in by_expert.items() if row["train"] + row["val"] < cfg.min_pairs_warning]
    warnings += [f"{name}: no val pairs (all its pairs come from one video group)"
                 for name, row in by_expert.items() if row["train"] and not row["val"]]
    warnings += [f"{name}: {row['shortfall']} pairs short of its quota {row['quota']}"
                 for name, row in by_expert.items() if row.get("shortfall")]
    return {
        "inputs": len(judged), "train": len(result.train), "val": len(result.val),
        "excluded": len(result.excluded), "by_expert": by_expert,
        "excluded_by_reason": dict(Counter(e.reason for e in result.excluded).most_common()),
        "shortfall": balance.shortfalls(),
        "dedup": {"semantic": dedup.semantic, "similarity_links": len(dedup.links),
                  "near_dup_threshold": cfg.near_dup_threshold,
                  "semantic_dup_threshold": cfg.semantic_dup_threshold},
        "split": {"seed": cfg.seed, "val_fraction": cfg.val_fraction, "videos": len({i.group for i in items}),
                  "videos_on_both_sides": videos_on_both_sides(items, side),
                  "similarity_links_across": crossing_links(dedup.links, side),
                  "near_duplicates_across": crossing_links(near_links, side)},
        "review": {"decisions": decisions, "accept_of_rejected_not_overridden": overridden},
        "warnings": warnings,
    }


def _write(run: RunDir, result: CurateResult) -> None:
    folder = run.ensure("curated")
    write_jsonl(folder / "train.jsonl", result.train)
    write_jsonl(folder / "val.jsonl", result.val)
    write_jsonl(folder / "excluded.jsonl", result.excluded)
    atomic_write_text(folder / "summary.json", json.dumps(result.report, indent=2) + "\n")


def _write_distribution(config: RunConfig, run: RunDir, experts: ExpertSet, result: CurateResult,
                        answer_vectors: dict[str, Any]) -> None:
    from synth.analysis import write_distribution_report

    result.report["distribution"] = write_distribution_report(
        run, experts, result.train + result.val, result.excluded, answer_vectors,
        min_pairs=config.curate.min_pairs_warning, use_embeddings=config.curate.semantic)
    atomic_write_text(run.path("curated", "summary.json"), json.dumps(result.report, indent=2) + "\n")
