"""curated/summary.json: counts per expert, exclusions by reason, shortfalls, dedup and split
figures, and an independent leak check of the final split (videos and near-duplicates found
again on the final pairs must not sit on both sides)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from synth.config import CurateConfig
from synth.curate.dedup import DedupResult, near_duplicate_links
from synth.curate.split import SplitItem, crossing_links, videos_on_both_sides
from synth.records import CuratedPair, JudgedPair

if TYPE_CHECKING:
    from synth.curate.balance import BalanceResult
    from synth.curate.base import CurateResult


def _expert_rows(
    judged: Sequence[JudgedPair], result: CurateResult, balance: BalanceResult
) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}

    def row(expert: str) -> dict[str, Any]:
        return rows.setdefault(expert, {"input": 0, "train": 0, "val": 0, "excluded": 0})

    for name, b in balance.experts.items():
        row(name).update(quota=b.quota, shortfall=b.shortfall, after_dedup=b.available)
    for j in judged:
        row(j.pair.expert)["input"] += 1
    for c in result.train + result.val:
        row(c.pair.expert)[c.split] += 1
    for e in result.excluded:
        row(e.expert)["excluded"] += 1
    return rows


def _warnings(rows: dict[str, dict[str, Any]], min_pairs: int) -> list[str]:
    warnings = []
    for name, row in rows.items():
        kept = row["train"] + row["val"]
        if kept < min_pairs:
            warnings.append(f"{name}: only {kept} pairs (< {min_pairs})")
        if row["train"] and not row["val"]:
            warnings.append(f"{name}: no val pairs (all its pairs come from one video group)")
        if row.get("shortfall"):
            warnings.append(f"{name}: {row['shortfall']} pairs short of its quota {row['quota']}")
    return warnings


def split_check(
    cfg: CurateConfig, final: Sequence[CuratedPair], links: list[tuple[str, str]]
) -> dict[str, Any]:
    """Videos and near-duplicates (found again on the final pairs) across train/val."""
    items = [SplitItem(c.pair.pair_id, c.pair.source_id, c.pair.expert) for c in final]
    side = {c.pair.pair_id: c.split for c in final}
    near = near_duplicate_links(
        [c.pair.question for c in final],
        [c.pair.answer for c in final],
        [c.pair.pair_id for c in final],
        cfg.near_dup_threshold,
    )
    return {
        "seed": cfg.seed,
        "val_fraction": cfg.val_fraction,
        "videos": len({i.group for i in items}),
        "videos_on_both_sides": videos_on_both_sides(items, side),
        "similarity_links_across": crossing_links(links, side),
        "near_duplicates_across": crossing_links(near, side),
    }


def curation_report(
    cfg: CurateConfig,
    judged: Sequence[JudgedPair],
    result: CurateResult,
    dedup: DedupResult,
    balance: BalanceResult,
    review: dict[str, int],
) -> dict[str, Any]:
    rows = _expert_rows(judged, result, balance)
    return {
        "inputs": len(judged),
        "train": len(result.train),
        "val": len(result.val),
        "excluded": len(result.excluded),
        "by_expert": rows,
        "excluded_by_reason": dict(Counter(e.reason for e in result.excluded).most_common()),
        "shortfall": balance.shortfalls(),
        "dedup": {
            "semantic": dedup.semantic,
            "similarity_links": len(dedup.links),
            "near_dup_threshold": cfg.near_dup_threshold,
            "semantic_dup_threshold": cfg.semantic_dup_threshold,
        },
        "split": split_check(cfg, result.train + result.val, dedup.links),
        "review": review,
        "warnings": _warnings(rows, cfg.min_pairs_warning),
    }
