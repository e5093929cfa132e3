"""Which judged pairs curation takes: those of the selected generation sets, on current segments.

- Generation sets (synth.generate.sets): the current config's set by default, or the sets in
  `curate.generations` (`all`: every set; each exported row keeps its set id). A pair of another
  set is excluded with reason `other_generation`. Pairs made before sets existed always count.
- Stale pairs: when a re-ingest changed the segments (a new field map, new flags), a pair
  whose segment is gone or whose text changed is excluded with reason `stale_segment` and is
  never exported.
"""
from __future__ import annotations

from typing import TypeVar

from synth.config import RunConfig
from synth.generate.sets import selected_generations, set_id
from synth.generate.stale import REASON as STALE
from synth.generate.stale import segment_texts, stale_detail
from synth.records import CuratedPair, ExcludedPair, JudgedPair, Pair
from synth.rundir import RunDir

P = TypeVar("P", JudgedPair, CuratedPair)


def select_pairs(config: RunConfig, run: RunDir,
                 judged: list[JudgedPair]) -> tuple[list[JudgedPair], list[ExcludedPair]]:
    """(the pairs to curate, the exclusions of the others)."""
    return _apply(_Rule(config, run, any(j.pair.generation for j in judged)), judged)


def drop_outdated(config: RunConfig, run: RunDir,
                  curated: list[CuratedPair]) -> tuple[list[CuratedPair], list[ExcludedPair]]:
    """The same rule at export time, on curated/ as it was written: a re-ingest or another
    `curate.generations` after `synth curate` must not put stale or unselected pairs in training."""
    return _apply(_Rule(config, run, any(c.pair.generation for c in curated)), curated)


def _apply(rule: _Rule, items: list[P]) -> tuple[list[P], list[ExcludedPair]]:
    kept: list[P] = []
    excluded: list[ExcludedPair] = []
    for item in items:
        why = rule.exclusion(item.pair)
        if why is None:
            kept.append(item)
        else:
            excluded.append(why)
    return kept, excluded


class _Rule:
    """The selected generation sets and the current segments' texts of one run."""

    def __init__(self, config: RunConfig, run: RunDir, versioned: bool):
        self.chosen = selected_generations(config, run) if versioned else None
        self.texts = segment_texts(run)

    def exclusion(self, pair: Pair) -> ExcludedPair | None:
        """Why `pair` is out (other_generation, stale_segment), or None when it stays."""
        if self.chosen is not None and set_id(pair) not in self.chosen:
            return ExcludedPair(pair_id=pair.pair_id, expert=pair.expert, reason="other_generation",
                                detail=f"generation set {set_id(pair)} is not selected "
                                       "(curate.generations)")
        detail = stale_detail(pair, self.texts)
        if detail is not None:
            return ExcludedPair(pair_id=pair.pair_id, expert=pair.expert, reason=STALE, detail=detail)
        return None
