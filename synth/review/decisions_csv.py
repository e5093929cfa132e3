"""Offline review: the review sample as CSV, and the reviewer's CSV read back.

Columns: pair_id, expert, source_id, question, answer, scores, flags, judge_rationale,
decision (accept / reject / empty), note. Reading back saves every row with a decision;
a bad row (unknown pair, bad decision) is reported with file, row and field, and the valid rows
are still saved.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from synth.errors import InputError
from synth.files import atomic_write_text
from synth.records import ReviewDecision
from synth.review.session import ReviewItem, ReviewSession

COLUMNS = ["pair_id", "expert", "source_id", "question", "answer", "scores", "flags",
           "judge_rationale", "decision", "note"]
DECISIONS = ("accept", "reject")


@dataclass
class CsvImport:
    saved: int = 0
    blank: int = 0  # rows left undecided
    errors: list[str] = field(default_factory=list)


def _row(item: ReviewItem, decision: ReviewDecision | None) -> dict[str, str]:
    return {
        "pair_id": item.pair_id, "expert": item.expert, "source_id": item.source_id,
        "question": item.question, "answer": item.answer,
        "scores": "; ".join(f"{k}={v}" for k, v in item.scores.items()),
        "flags": "; ".join(item.flags),
        "judge_rationale": " | ".join(f"{k}: {v}" for k, v in item.rationales.items()),
        "decision": decision.decision if decision else "", "note": decision.note if decision else "",
    }


def write_csv(session: ReviewSession, path: Path) -> Path:
    """The sample as CSV, with any decisions already made filled in."""
    decisions = session.store.load()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for item in session.items:
        writer.writerow(_row(item, decisions.get(item.pair_id)))
    return atomic_write_text(path, buffer.getvalue())


def _read_rows(path: Path) -> list[dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("CSV file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", file=str(path)) from None
    reader = csv.DictReader(io.StringIO(text))
    missing = {"pair_id", "decision"} - set(reader.fieldnames or [])
    if missing:
        raise InputError(f"missing column(s) {', '.join(sorted(missing))}", file=str(path))
    return list(reader)


def import_csv(session: ReviewSession, path: Path, reviewer: str = "reviewer") -> CsvImport:
    """Save the decisions of a reviewed CSV; bad rows are named in `errors`."""
    result, decisions = CsvImport(), []
    for number, row in enumerate(_read_rows(path), start=2):  # row 1 is the header
        pair_id = (row.get("pair_id") or "").strip()
        decision = (row.get("decision") or "").strip().lower()
        if not decision:
            result.blank += 1
        elif decision not in DECISIONS:
            result.errors.append(f"{path}, row {number}, field 'decision': {decision!r} is not "
                                 "accept or reject")
        elif pair_id not in session.known_ids:
            result.errors.append(f"{path}, row {number}, field 'pair_id': unknown pair {pair_id!r}")
        else:
            decisions.append(ReviewDecision(pair_id=pair_id, decision=decision,  # type: ignore[arg-type]
                                            note=(row.get("note") or "").strip(), reviewer=reviewer))
    if decisions:
        session.store.save(decisions)
    result.saved = len(decisions)
    return result
