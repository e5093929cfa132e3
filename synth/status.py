"""`synth status`: where a run stands, read from its run dir without changing anything."""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from synth.errors import InputError
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


def _store(read: Callable[[Path], dict[str, Any]], path: Path,
           unreadable: dict[str, str]) -> dict[str, Any] | None:
    """A store's counts, or None with the reason recorded when the store cannot be read."""
    try:
        return read(path)
    except InputError as exc:
        unreadable[path.name] = exc.reason
        return None


def _rounded(counts: dict[str, Any] | None, key: str) -> float | None:
    return None if counts is None else round(counts[key], 6)


def run_status(run: RunDir) -> dict[str, Any]:
    """Counts of a run: segments, pairs, failed segments, spend and LLM calls."""
    unreadable: Counter[str] = Counter()
    with_pairs = {sid for sid, _ in _segment_ids(run.pairs, unreadable)}
    last_failure: dict[str, str] = {}
    for sid, reason in _segment_ids(run.failures, unreadable):
        if sid not in with_pairs:
            last_failure[sid] = reason or "failed"
    segments = _count_lines(run.segments)
    unreadable_stores: dict[str, str] = {}
    spend = _store(read_spend, run.spend_db, unreadable_stores)
    calls = _store(read_call_counts, run.calls_db, unreadable_stores)
    status: dict[str, Any] = {
        "run_dir": str(run.root), "segments": segments, "pairs": _count_lines(run.pairs),
        "segments_with_pairs": len(with_pairs), "failed": len(last_failure),
        "pending": max(0, segments - len(with_pairs) - len(last_failure)),
        "failures": dict(Counter(last_failure.values())),
        "spend_usd": _rounded(spend, "spend_usd"), "committed_usd": _rounded(spend, "committed_usd"),
        "calls": calls and calls["calls"], "cached": calls and calls["cached"],
        "calls_by_status": calls and calls["by_status"],
    }
    if unreadable_stores:  # counts from a store that cannot be read are None, never 0
        status["unreadable_stores"] = unreadable_stores
    if unreadable:
        status["unreadable_lines"] = dict(unreadable)
    judged = run.judged
    if judged.exists():
        status["judged"] = _count_lines(judged)
    return status
