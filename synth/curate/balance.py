"""Per-expert quotas: cap each expert at its quota (best judged pairs first), report shortfalls.

`curate.quotas` maps expert -> the number of pairs wanted. An expert with more keeps its
best-scored pairs (mean judge score; ties broken by a seeded shuffle) and the rest are excluded
as `over_quota`; an expert with fewer keeps all and its shortfall (quota - available) is
reported. Experts without a quota are not capped.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Candidate:
    key: str
    expert: str
    score: float


@dataclass
class ExpertBalance:
    available: int
    quota: int | None
    kept: int
    shortfall: int


@dataclass
class BalanceResult:
    kept: list[Candidate] = field(default_factory=list)
    over_quota: list[Candidate] = field(default_factory=list)
    experts: dict[str, ExpertBalance] = field(default_factory=dict)

    def shortfalls(self) -> dict[str, int]:
        return {name: e.shortfall for name, e in self.experts.items() if e.shortfall}


def apply_quotas(
    candidates: Sequence[Candidate], quotas: dict[str, int], experts: Sequence[str], seed: int
) -> BalanceResult:
    result = BalanceResult()
    by_expert: dict[str, list[Candidate]] = {name: [] for name in experts}
    for candidate in candidates:
        by_expert.setdefault(candidate.expert, []).append(candidate)
    for name, pool in by_expert.items():
        quota = quotas.get(name)
        ranked = _ranked(pool, seed)
        keep = ranked if quota is None else ranked[:quota]
        result.kept += keep
        result.over_quota += ranked[len(keep) :]
        shortfall = max(0, quota - len(pool)) if quota is not None else 0
        result.experts[name] = ExpertBalance(len(pool), quota, len(keep), shortfall)
    return result


def _ranked(pool: list[Candidate], seed: int) -> list[Candidate]:
    shuffled = sorted(pool, key=lambda c: c.key)
    random.Random(seed).shuffle(shuffled)
    return sorted(shuffled, key=lambda c: -c.score)
