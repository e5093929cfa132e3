"""Shared types of the curate stage: the result of a curation (its report module reads it)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from synth.records import CuratedPair, ExcludedPair


@dataclass
class CurateResult:
    train: list[CuratedPair]
    val: list[CuratedPair]
    excluded: list[ExcludedPair]
    report: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "train": len(self.train),
            "val": len(self.val),
            "excluded": len(self.excluded),
            "semantic_dedup": self.report.get("dedup", {}).get("semantic", ""),
        }
