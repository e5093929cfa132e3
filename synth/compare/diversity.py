"""Question diversity of a generation set: distinct bigrams and embedding distance.

- distinct bigrams (distinct-2): unique word bigrams / all word bigrams over the set's questions.
- embedding distance: for each segment with two or more questions, the mean cosine distance
  (1 - cosine) between its questions' MiniLM embeddings (synth.text.embeddings, the embed
  extra); the mean over segments. None when the extra is not installed (never a made-up 0).
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from synth.text import embeddings
from synth.text.stats import whitespace_tokens


def distinct_bigrams(questions: Sequence[str]) -> float | None:
    seen, total = set(), 0
    for question in questions:
        words = whitespace_tokens(question)
        pairs = list(itertools.pairwise(words))
        seen.update(pairs)
        total += len(pairs)
    return len(seen) / total if total else None


def embedding_distance(by_segment: Mapping[str, Sequence[str]]) -> float | None:
    groups = [list(qs) for qs in by_segment.values() if len(qs) >= 2]
    if not groups or not embeddings.available():
        return None
    vectors = embeddings.embed([q for group in groups for q in group])
    distances, start = [], 0
    for group in groups:
        block = vectors[start:start + len(group)]
        start += len(group)
        sims = block @ block.T
        n = len(group)
        mean_sim = (sims.sum() - n) / (n * (n - 1))  # off-diagonal mean (rows are L2-normalised)
        distances.append(1.0 - float(mean_sim))
    return sum(distances) / len(distances)


def mean_words(questions: Sequence[str]) -> float | None:
    return sum(len(q.split()) for q in questions) / len(questions) if questions else None
