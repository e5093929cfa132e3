"""Deduplication of accepted pairs: exact, near (MinHash LSH) and semantic (embedding cosine).

Pairs are ranked best first (mean judge score), so of each duplicate set the best pair stays.
Several questions written for one segment share its answer on purpose; what counts as a
duplicate is:
  exact_duplicate     the same question and answer (normalised) as a better pair
  near_duplicate      an answer that overlaps another segment's answer (MinHash, overlap
                      measure: also a window lying inside another), or a near-identical question
                      for the same answer
  semantic_duplicate  the same, by embedding cosine >= curate.semantic_dup_threshold
Within and across experts alike. Near or semantically close questions over *different* answers
are kept but linked, so the split puts them on one side (no near-duplicate across train/val).
Uses synth.text.minhash (exact keys, MinHash clusters) and synth.embeddings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from synth.text import embeddings
from synth.text.minhash import exact_key, near_duplicate_clusters

NUM_PERM = 64
BLOCK = 2048


@dataclass(frozen=True)
class DedupItem:
    key: str  # pair id
    segment: str
    question: str
    answer: str
    score: float


@dataclass
class DedupResult:
    dropped: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (reason, detail)
    links: list[tuple[str, str]] = field(default_factory=list)  # kept pairs to keep on one side
    semantic: str = "not run"
    answer_vectors: dict[str, np.ndarray] = field(default_factory=dict)  # segment -> embedding


def deduplicate(
    items: Sequence[DedupItem],
    near_threshold: float,
    semantic_threshold: float,
    semantic: bool = True,
) -> DedupResult:
    ranked = sorted(items, key=lambda i: (-i.score, i.key))
    result = DedupResult()
    ranked = _exact(ranked, result)
    ranked = _near_answers(ranked, near_threshold, result)
    ranked = _near_questions(ranked, near_threshold, result)
    if not semantic:
        result.semantic = "skipped: curate.semantic is false"
    elif not embeddings.available():
        result.semantic = f"skipped: {embeddings.INSTALL_HINT}"
    else:
        _semantic(ranked, semantic_threshold, result)
    return result


def _drop(result: DedupResult, item: DedupItem, reason: str, detail: str) -> None:
    result.dropped[item.key] = (reason, detail)


def _exact(ranked: list[DedupItem], result: DedupResult) -> list[DedupItem]:
    first: dict[str, str] = {}
    kept = []
    for item in ranked:
        key = exact_key(item.question) + exact_key(item.answer)
        if key in first:
            _drop(result, item, "exact_duplicate", f"same question and answer as pair {first[key]}")
        else:
            first[key] = item.key
            kept.append(item)
    return kept


def _segments(ranked: Sequence[DedupItem]) -> list[DedupItem]:
    """The best pair of each segment, in rank order."""
    seen: dict[str, DedupItem] = {}
    for item in ranked:
        seen.setdefault(item.segment, item)
    return list(seen.values())


def _drop_segments(
    ranked: list[DedupItem], duplicate_of: dict[str, DedupItem], reason: str, result: DedupResult
) -> list[DedupItem]:
    kept = []
    for item in ranked:
        keeper = duplicate_of.get(item.segment)
        if keeper is None:
            kept.append(item)
        else:
            _drop(
                result,
                item,
                reason,
                f"answer duplicates segment {keeper.segment} (pair {keeper.key})",
            )
    return kept


def _near_answers(
    ranked: list[DedupItem], threshold: float, result: DedupResult
) -> list[DedupItem]:
    heads = _segments(ranked)
    clusters = near_duplicate_clusters(
        [h.answer for h in heads], threshold, NUM_PERM, measure="overlap"
    )
    duplicate_of = {h.segment: heads[c] for h, c in zip(heads, clusters) if heads[c] is not h}
    return _drop_segments(ranked, duplicate_of, "near_duplicate", result)


def _near_questions(
    ranked: list[DedupItem], threshold: float, result: DedupResult
) -> list[DedupItem]:
    questions = [i.question for i in ranked]
    same_answer = near_duplicate_clusters(
        questions, threshold, NUM_PERM, groups=[i.segment for i in ranked]
    )
    kept = []
    for item, cluster in zip(ranked, same_answer):
        if ranked[cluster] is item:
            kept.append(item)
        else:
            _drop(
                result,
                item,
                "near_duplicate",
                f"question near-duplicate of pair {ranked[cluster].key}",
            )
    anywhere = near_duplicate_clusters([i.question for i in kept], threshold, NUM_PERM)
    result.links += [
        (kept[c].key, item.key) for item, c in zip(kept, anywhere) if kept[c] is not item
    ]
    return kept


def similar_pairs(vectors: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """(i, j), i < j, of normalised rows with cosine >= threshold; blockwise, no n x n matrix."""
    found: list[tuple[int, int]] = []
    for start in range(0, len(vectors), BLOCK):
        block = vectors[start : start + BLOCK] @ vectors[start:].T
        rows, cols = np.nonzero(block >= threshold)
        found += [(start + r, start + c) for r, c in zip(rows.tolist(), cols.tolist()) if c > r]
    return found


def _semantic(ranked: list[DedupItem], threshold: float, result: DedupResult) -> None:
    heads = _segments(ranked)
    answer_vectors = embeddings.embed([h.answer for h in heads])
    result.answer_vectors = {h.segment: v for h, v in zip(heads, answer_vectors)}
    duplicate_of: dict[str, DedupItem] = {}
    for i, j in similar_pairs(answer_vectors, threshold):
        if heads[i].segment not in duplicate_of and heads[j].segment not in duplicate_of:
            duplicate_of[heads[j].segment] = heads[i]
    kept = _drop_segments(ranked, duplicate_of, "semantic_duplicate", result)
    question_vectors = embeddings.embed([i.question for i in kept])
    gone: set[int] = set()
    for i, j in similar_pairs(question_vectors, threshold):
        if i in gone or j in gone:
            continue
        if kept[i].segment == kept[j].segment:
            gone.add(j)
            _drop(result, kept[j], "semantic_duplicate", f"question close to pair {kept[i].key}")
        else:
            result.links.append((kept[i].key, kept[j].key))
    result.semantic = f"ran: all-MiniLM-L6-v2 cosine >= {threshold}"


def near_duplicate_links(
    questions: Sequence[str], answers: Sequence[str], keys: Sequence[str], threshold: float
) -> list[tuple[str, str]]:
    """Near-duplicate links among final pairs (answers by overlap, questions by Jaccard)."""
    links = []
    for texts, measure in ((answers, "overlap"), (questions, "jaccard")):
        clusters = near_duplicate_clusters(list(texts), threshold, NUM_PERM, measure=measure)
        links += [(keys[c], keys[i]) for i, c in enumerate(clusters) if c != i]
    return links
