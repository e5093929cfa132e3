"""Train/val split grouped by source video, stratified by expert, seeded.

A group is a set of source videos joined by any similarity link that survived deduplication
(a near-duplicate or semantically close text in two videos): a whole group goes to one side,
so no video and no near-duplicate is on both sides. Groups are assigned greedily, largest
first (ties broken by a seeded shuffle): a group goes to val when that brings val's per-expert
counts closer to their targets (val_fraction of each expert, at least one pair when the
expert has two or more groups).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from synth.text.unionfind import UnionFind


@dataclass(frozen=True)
class SplitItem:
    key: str  # pair id
    group: str  # source video id
    stratum: str  # expert


def split_groups(items: Sequence[SplitItem], links: Iterable[tuple[str, str]]) -> dict[str, str]:
    """source video -> split group, joining the videos of pairs linked by similarity."""
    video_of = {item.key: item.group for item in items}
    sets: UnionFind[str] = UnionFind()
    for item in items:
        sets.find(item.group)
    for a, b in links:
        if a in video_of and b in video_of:
            sets.union(video_of[a], video_of[b])
    return {item.group: sets.find(item.group) for item in items}


def val_targets(
    items: Sequence[SplitItem], group_of: dict[str, str], fraction: float
) -> Counter[str]:
    """Per-expert number of val pairs to aim for."""
    counts = Counter(item.stratum for item in items)
    groups_per_expert: dict[str, set[str]] = {}
    for item in items:
        groups_per_expert.setdefault(item.stratum, set()).add(group_of[item.group])
    targets: Counter[str] = Counter()
    for expert, count in counts.items():
        target = round(fraction * count)
        if len(groups_per_expert[expert]) >= 2:
            target = min(max(target, 1), count - 1)
        targets[expert] = target
    return targets


def grouped_split(
    items: Sequence[SplitItem], fraction: float, seed: int, links: Iterable[tuple[str, str]] = ()
) -> dict[str, str]:
    """pair key -> "train" or "val"."""
    group_of = split_groups(items, links)
    targets = val_targets(items, group_of, fraction)
    members: dict[str, Counter[str]] = {}
    for item in items:
        members.setdefault(group_of[item.group], Counter())[item.stratum] += 1
    order = sorted(members)
    random.Random(seed).shuffle(order)
    order.sort(key=lambda g: -sum(members[g].values()))  # stable: shuffled ties
    val_counts: Counter[str] = Counter()
    val_groups: set[str] = set()
    for group in order:
        if _cost(val_counts + members[group], targets) < _cost(val_counts, targets):
            val_counts += members[group]
            val_groups.add(group)
    return {item.key: "val" if group_of[item.group] in val_groups else "train" for item in items}


def _cost(val_counts: Counter[str], targets: Counter[str]) -> float:
    """Squared distance from targets, each expert scaled by its own target."""
    return sum(((val_counts[e] - t) / max(t, 1)) ** 2 for e, t in targets.items())


def crossing_links(links: Iterable[tuple[str, str]], side: dict[str, str]) -> int:
    """Similarity links (pair id, pair id) with one pair in train and one in val."""
    return sum(1 for a, b in links if a in side and b in side and side[a] != side[b])


def videos_on_both_sides(items: Sequence[SplitItem], side: dict[str, str]) -> list[str]:
    sides: dict[str, set[str]] = {}
    for item in items:
        sides.setdefault(item.group, set()).add(side[item.key])
    return sorted(video for video, seen in sides.items() if len(seen) > 1)
