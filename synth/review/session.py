"""Human review: a stratified, seeded sample of judged pairs per expert, and the decisions.

The sample takes `review.samples_per_expert` accepted pairs of each expert from judged.jsonl
(seeded per expert, so one expert's volume does not change another's sample). Decisions are
ReviewDecision records in review/decisions.jsonl, one line per pair (the latest decision wins),
rewritten atomically under a file lock; curation reads them and never exports a rejected pair.
The same sample can be written to CSV for offline review and read back (synth.review.decisions_csv);
synth.review.server serves the page.
"""
from __future__ import annotations

import random
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from synth.config import RunConfig
from synth.errors import InputError
from synth.files import exclusive_lock, read_jsonl, write_jsonl
from synth.records import JudgedPair, ReviewDecision
from synth.rundir import RunDir


class ReviewItem(BaseModel):
    """What the reviewer sees of one pair (sent to the page as JSON)."""

    pair_id: str
    expert: str
    source_id: str
    question: str
    answer: str  # the cleaned segment
    question_type: str
    scores: dict[str, int]
    rationales: dict[str, str]
    flags: list[str]
    judge_accepted: bool
    reasons: list[str]


def sample_for_review(judged: list[JudgedPair], per_expert: int, seed: int) -> list[JudgedPair]:
    """Up to `per_expert` accepted pairs per expert, seeded, in expert then pair-id order."""
    by_expert: dict[str, list[JudgedPair]] = defaultdict(list)
    for item in judged:
        if item.accepted:
            by_expert[item.pair.expert].append(item)
    sample = []
    for expert in sorted(by_expert):
        pool = sorted(by_expert[expert], key=lambda j: j.pair.pair_id)
        chosen = random.Random(f"{seed}:{expert}").sample(pool, min(per_expert, len(pool)))
        sample += sorted(chosen, key=lambda j: j.pair.pair_id)
    return sample


def review_item(judged: JudgedPair) -> ReviewItem:
    pair, judgment = judged.pair, judged.judgment
    scores = {k: v.score for k, v in judgment.scores.items()} if judgment else {}
    rationales = {k: v.rationale for k, v in judgment.scores.items()} if judgment else {}
    flags = list(pair.segment_flags)
    flags += [f"safety:{f.kind}: {f.quote}" for f in (judgment.safety_flags if judgment else [])]
    flags += [f"check:{c.name}: {c.reason}" for c in judged.checks if not c.passed]
    return ReviewItem(pair_id=pair.pair_id, expert=pair.expert, source_id=pair.source_id,
                      question=pair.question, answer=pair.answer, question_type=pair.question_type,
                      scores=scores, rationales=rationales, flags=flags,
                      judge_accepted=judged.accepted, reasons=judged.reasons)


class DecisionStore:
    """review/decisions.jsonl: one ReviewDecision per pair, latest wins, atomic rewrites."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    def load(self) -> dict[str, ReviewDecision]:
        return {d.pair_id: d for d in read_jsonl(self.path, ReviewDecision)}

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock, exclusive_lock(self.path):
            yield

    def save(self, decisions: list[ReviewDecision]) -> None:
        """Merge decisions into the file (re-read under the lock, so other writers are kept)."""
        with self._locked():
            current = self.load()
            current.update({d.pair_id: d for d in decisions})
            write_jsonl(self.path, sorted(current.values(), key=lambda d: d.pair_id))


@dataclass
class ReviewSession:
    items: list[ReviewItem]
    store: DecisionStore
    known_ids: set[str] = field(default_factory=set)  # every judged pair id (CSV may name them)
    per_expert: int = 0
    seed: int = 0

    @property
    def item_ids(self) -> set[str]:
        return {item.pair_id for item in self.items}

    def decide(self, pair_id: str, decision: str, note: str, reviewer: str = "reviewer") -> ReviewDecision:
        """Save one decision for a sampled pair; KeyError for a pair not in the sample."""
        if pair_id not in self.item_ids:
            raise KeyError(pair_id)
        record = ReviewDecision(pair_id=pair_id, decision=decision, note=note,  # type: ignore[arg-type]
                                reviewer=reviewer)
        self.store.save([record])
        return record


def decisions_path(run: RunDir) -> Path:
    return run.review_decisions


def open_review(config: RunConfig, run: RunDir) -> ReviewSession:
    """The review sample of a run (from judged.jsonl) with its decision store."""
    judged_path = run.judged
    judged = list(read_jsonl(judged_path, JudgedPair, missing_ok=False))
    if not judged:
        raise InputError("no judged pairs to review (run synth judge first)", file=str(judged_path))
    sample = sample_for_review(judged, config.review.samples_per_expert, config.review.seed)
    return ReviewSession(items=[review_item(j) for j in sample], store=DecisionStore(decisions_path(run)),
                         known_ids={j.pair.pair_id for j in judged},
                         per_expert=config.review.samples_per_expert, seed=config.review.seed)
