"""`synth status`: where a run stands, read from its run dir without changing anything."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from synth.files import count_records
from synth.llm.budget import read_spend
from synth.llm.calllog import read_call_counts
from synth.rundir import RunDir


def _count_lines(path: Path) -> int:
    return count_records(path) or 0


def _segment_ids(path: Path, unreadable: Counter[str]) -> list[tuple[str, str | None]]:
    """(segment_id, reason) of each record of a pairs or failures file; lines that are not
    such a record (a torn line of a running or killed stage) are counted in `unreadable`."""
    if not path.exists():
        return []
    rows = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in filter(str.strip, fh):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            if isinstance(record, dict) and "segment_id" in record:
                rows.append((str(record["segment_id"]), record.get("reason")))
            else:
                unreadable[path.name] += 1
    return rows


def run_status(run: RunDir) -> dict[str, Any]:
    """Counts of a run: segments, pairs, failed segments, spend and LLM calls."""
    unreadable: Counter[str] = Counter()
    with_pairs = {sid for sid, _ in _segment_ids(run.pairs, unreadable)}
    last_failure: dict[str, str] = {}
    for sid, reason in _segment_ids(run.failures, unreadable):
        if sid not in with_pairs:
            last_failure[sid] = reason or "failed"
    segments = _count_lines(run.segments)
    spend = read_spend(run.spend_db)
    calls = read_call_counts(run.calls_db)
    status: dict[str, Any] = {
        "run_dir": str(run.root), "segments": segments, "pairs": _count_lines(run.pairs),
        "segments_with_pairs": len(with_pairs), "failed": len(last_failure),
        "pending": max(0, segments - len(with_pairs) - len(last_failure)),
        "failures": dict(Counter(last_failure.values())),
        "spend_usd": round(spend["spend_usd"], 6), "committed_usd": round(spend["committed_usd"], 6),
        "calls": calls["calls"], "cached": calls["cached"], "calls_by_status": calls["by_status"],
    }
    if unreadable:
        status["unreadable_lines"] = dict(unreadable)
    judged = run.judged
    if judged.exists():
        status["judged"] = _count_lines(judged)
    return status
