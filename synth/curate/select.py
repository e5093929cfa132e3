"""Which judged pairs curation takes: those of the selected generation sets, on current segments.

- Generation sets (synth.generate.sets): the current config's set by default, or the sets in
  `curate.generations` (`all`: every set; each exported row keeps its set id). A pair of another
  set is excluded with reason `other_generation`. Pairs made before sets existed always count.
- Stale pairs: when a re-ingest changed the segments (a new field map, new flags), a pair
  whose segment is gone or whose text changed is excluded with reason `stale_segment` and is
  never exported.
"""
from __future__ import annotations

from synth.config import RunConfig
from synth.files import read_jsonl
from synth.generate.sets import selected_generations, set_id
from synth.records import ExcludedPair, JudgedPair, Segment
from synth.rundir import RunDir


def select_pairs(config: RunConfig, run: RunDir,
                 judged: list[JudgedPair]) -> tuple[list[JudgedPair], list[ExcludedPair]]:
    """(the pairs to curate, the exclusions of the others)."""
    versioned = any(j.pair.generation for j in judged)
    chosen = selected_generations(config, run) if versioned else None
    texts = {s.segment_id: s.text for s in read_jsonl(run.segments, Segment)} \
        if run.segments.exists() else None
    kept, excluded = [], []
    for item in judged:
        pair = item.pair
        if chosen is not None and set_id(pair) not in chosen:
            excluded.append(ExcludedPair(pair_id=pair.pair_id, expert=pair.expert,
                                         reason="other_generation",
                                         detail=f"generation set {set_id(pair)} is not selected "
                                                "(curate.generations)"))
        elif texts is not None and texts.get(pair.segment_id) != pair.answer:
            why = "is gone" if pair.segment_id not in texts else "text changed"
            excluded.append(ExcludedPair(pair_id=pair.pair_id, expert=pair.expert,
                                         reason="stale_segment",
                                         detail=f"segment {pair.segment_id} {why} since the pair "
                                                "was generated (re-ingest); rerun synth generate"))
        else:
            kept.append(item)
    return kept, excluded
