"""Pairs that no longer match their segment: a re-ingest after generation (a new field map, new
flags, a fixed transcript) removed the segment or changed its text, so the pair's answer is not
what the run would train on. The judge does not pay to judge them; curate and export exclude
them; every one is named with reason `stale_segment`.
"""
from __future__ import annotations

from synth.files import read_jsonl
from synth.records import Pair, Segment
from synth.rundir import RunDir

REASON = "stale_segment"


def segment_texts(run: RunDir) -> dict[str, str] | None:
    """segment id -> current text; None when the run has no segments file (nothing to compare)."""
    if not run.segments.exists():
        return None
    return {s.segment_id: s.text for s in read_jsonl(run.segments, Segment)}


def stale_detail(pair: Pair, texts: dict[str, str] | None) -> str | None:
    """Why `pair` is stale, or None when its segment is current (or there is nothing to compare)."""
    if texts is None or texts.get(pair.segment_id) == pair.answer:
        return None
    why = "is gone" if pair.segment_id not in texts else "text changed"
    return f"segment {pair.segment_id} {why} since the pair was generated (re-ingest); rerun synth generate"
