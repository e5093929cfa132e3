"""`synth status`: where a run stands, read from its run dir without changing anything."""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from synth.errors import InputError
from synth.files import count_records
from synth.llm.budget import read_spend, read_stage_spend
from synth.llm.calllog import read_call_counts, read_reask_outcomes
from synth.records import FINAL_FAILURES
from synth.rundir import RunDir

LEGACY = "legacy"  # pairs made before generation sets (synth.generate.sets.LEGACY)


def _count_lines(path: Path) -> int:
    return count_records(path) or 0


def _records(path: Path, unreadable: Counter[str], key: str = "segment_id") -> list[dict[str, Any]]:
    """The records of a JSONL file that hold `key`; lines that are not such a record (a torn
    line of a running or killed stage) are counted in `unreadable`."""
    if not path.exists():
        return []
    rows = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in filter(str.strip, fh):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            if isinstance(record, dict) and key in record:
                rows.append(record)
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


def _failed(pairs: list[dict[str, Any]], failures: list[dict[str, Any]]) -> dict[str, str]:
    """segment id -> reason of its last failure, for segments without pairs."""
    with_pairs = {str(p["segment_id"]) for p in pairs}
    return {str(f["segment_id"]): f.get("reason") or "failed" for f in failures
            if str(f["segment_id"]) not in with_pairs}


def retry_hint(failed_for_good: dict[str, int]) -> str | None:
    """The line that says how to retry segments a rerun skips (None when there are none)."""
    total = sum(failed_for_good.values())
    if not total:
        return None
    reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(failed_for_good.items()))
    return (f"{total} segment{'s' if total != 1 else ''} failed for good ({reasons}); "
            "rerun with --retry-failed")


def generations(run: RunDir, pairs: list[dict[str, Any]], failures: list[dict[str, Any]],
                unreadable: Counter[str], spend: dict[str, float] | None,
                texts: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per generation set: id, provider, model, pairs, failed segments, spend
    (None when the ledger cannot be read), pending (current segments the set has neither
    pairs of their current text nor a failure for: what `synth generate` would send)."""
    sets = {str(g["generation_id"]): g for g in _records(run.generations, unreadable, "generation_id")}
    ids = list(sets) + sorted({p.get("generation") or LEGACY for p in pairs} - set(sets))
    out = []
    for gid in ids:
        own = [p for p in pairs if (p.get("generation") or LEGACY) == gid]
        first = sets.get(gid) or {"provider": own[0].get("generator"), "model": own[0].get("generator_model")}
        failed = _failed(own, [f for f in failures if (f.get("generation") or LEGACY) == gid])
        done = {str(p["segment_id"]) for p in own if texts.get(str(p["segment_id"])) == p.get("answer")}
        final = Counter(r for r in failed.values() if r in FINAL_FAILURES)
        out.append({"id": gid, "provider": first.get("provider"), "model": first.get("model"),
                    "pairs": len(own), "failed": len(failed), "failed_for_good": dict(sorted(final.items())),
                    "spend_usd": None if spend is None else round(spend.get(f"generate:{gid}", 0.0), 6),
                    "pending": len(set(texts) - done - set(failed))})
    return out


def run_status(run: RunDir) -> dict[str, Any]:
    """Counts of a run: segments, pairs, failed segments, spend, tokens, LLM calls, and the same
    per generation set (`generations`)."""
    unreadable: Counter[str] = Counter()
    pairs, failures = _records(run.pairs, unreadable), _records(run.failures, unreadable)
    texts = {str(s["segment_id"]): s.get("text") for s in _records(run.segments, unreadable)}
    current = [p for p in pairs if texts.get(str(p["segment_id"])) == p.get("answer")]
    with_pairs = {str(p["segment_id"]) for p in current}  # stale pairs (re-ingest) do not count
    last_failure = _failed(current, [f for f in failures if str(f["segment_id"]) in texts])
    segments = len(texts)
    unreadable_stores: dict[str, str] = {}
    spend = _store(read_spend, run.spend_db, unreadable_stores)
    calls = _store(read_call_counts, run.calls_db, unreadable_stores)
    reasks = _store(lambda path: read_reask_outcomes(path, "generate"), run.calls_db, unreadable_stores)
    status: dict[str, Any] = {
        "run_dir": str(run.root), "segments": segments, "pairs": _count_lines(run.pairs),
        "segments_with_pairs": len(with_pairs), "failed": len(last_failure),
        "pending": max(0, segments - len(with_pairs) - len(last_failure)),
        "stale_pairs": len(pairs) - len(current),  # segment gone or its text changed
        "failures": dict(Counter(last_failure.values())),
        # settled totals (what `synth run` prints too), open reservations (killed calls) apart
        "spend_usd": _rounded(spend, "spend_usd"), "tokens": spend and spend["tokens"],
        "open_reserved_usd": _rounded(spend, "open_usd"),
        "open_reserved_tokens": spend and spend["open_tokens"],
        "generations": generations(run, pairs, failures, unreadable,
                                   _store(read_stage_spend, run.spend_db, unreadable_stores), texts),
        "calls": calls and calls["calls"], "cached": calls and calls["cached"],
        "calls_by_status": calls and calls["by_status"],
        "generate_reasks": reasks,  # invalid first answers, and how many a re-ask fixed
    }
    final: Counter[str] = Counter()
    for entry in status["generations"]:
        final.update(entry["failed_for_good"])
    hint = retry_hint(dict(final))
    if hint:  # segments every rerun skips until asked: say how
        status["retry_failed"] = hint
    if unreadable_stores:  # counts from a store that cannot be read are None, never 0
        status["unreadable_stores"] = unreadable_stores
    if unreadable:
        status["unreadable_lines"] = dict(unreadable)
    judged = run.judged
    if judged.exists():
        status["judged"] = _count_lines(judged)
    return status
