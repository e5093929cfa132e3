"""Grouped, stratified, seeded train/val split and per-expert quotas."""

from __future__ import annotations

import random
from collections import Counter

from synth.curate.balance import Candidate, apply_quotas
from synth.curate.split import (
    SplitItem,
    crossing_links,
    grouped_split,
    split_groups,
    videos_on_both_sides,
)

EXPERTS = ("therapeutic", "educational", "empathetic", "practical")


def items(n_videos: int = 30, seed: int = 0) -> list[SplitItem]:
    rng = random.Random(seed)
    out = []
    for v in range(n_videos):
        for k in range(rng.randint(1, 12)):
            out.append(SplitItem(f"p{v}-{k}", f"video-{v}", rng.choice(EXPERTS)))
    return out


def test_no_video_on_both_sides_and_every_item_assigned():
    data = items()
    side = grouped_split(data, 0.2, seed=1)
    assert set(side) == {i.key for i in data}
    assert videos_on_both_sides(data, side) == []


def test_stratified_per_expert_near_the_fraction():
    data = items(n_videos=200, seed=4)
    side = grouped_split(data, 0.15, seed=2)
    totals = Counter(i.stratum for i in data)
    val = Counter(i.stratum for i in data if side[i.key] == "val")
    for expert in EXPERTS:
        assert abs(val[expert] / totals[expert] - 0.15) < 0.03, (
            expert,
            val[expert],
            totals[expert],
        )


def test_seeded_and_deterministic():
    data = items(seed=7)
    assert grouped_split(data, 0.2, seed=5) == grouped_split(list(data), 0.2, seed=5)
    assert grouped_split(data, 0.2, seed=5) != grouped_split(data, 0.2, seed=6)


def test_linked_videos_stay_on_one_side():
    data = items(n_videos=40, seed=9)
    first = {i.group: i.key for i in data}
    links = [(first["video-0"], first["video-1"]), (first["video-1"], first["video-2"])]
    groups = split_groups(data, links)
    assert groups["video-0"] == groups["video-1"] == groups["video-2"]
    side = grouped_split(data, 0.3, seed=3, links=links)
    assert crossing_links(links, side) == 0
    assert len({side[first[f"video-{v}"]] for v in range(3)}) == 1


def test_small_expert_with_two_videos_gets_a_val_pair():
    data = [
        SplitItem("a", "v1", "practical"),
        SplitItem("b", "v2", "practical"),
        SplitItem("c", "v3", "empathetic"),
        SplitItem("d", "v3", "empathetic"),
    ]
    side = grouped_split(data, 0.1, seed=0)
    assert sorted(side[k] for k in "ab") == ["train", "val"]
    assert side["c"] == side["d"] == "train"  # one video: cannot be split


def test_quotas_keep_best_and_report_shortfall():
    candidates = [Candidate(f"t{i}", "therapeutic", score=i) for i in range(10)]
    candidates += [Candidate(f"e{i}", "empathetic", score=1.0) for i in range(3)]
    result = apply_quotas(candidates, {"therapeutic": 4, "empathetic": 5}, EXPERTS, seed=0)
    kept = {c.key for c in result.kept}
    assert {f"t{i}" for i in range(6, 10)} <= kept and len([k for k in kept if k[0] == "t"]) == 4
    assert len(result.over_quota) == 6
    assert result.shortfalls() == {"empathetic": 2}
    assert result.experts["practical"].available == 0 and result.experts["practical"].quota is None
