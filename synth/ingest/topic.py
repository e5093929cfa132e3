"""off_topic from the run's own corpus: a segment far from every other segment of the run.

The domain is whatever this speaker talks about, not a fixed word list. Each candidate text
(usable so far, English, with text) is encoded once with all-MiniLM-L6-v2 (the embed extra,
synth.text.embeddings). A segment's score is its mean cosine to its `neighbours` nearest
reference vectors: the run's other segments (duplicates left out, so a repeated text does not
vouch for itself) and, with `profiles`, for each expert with fewer than `neighbours` segments
in the run, its profile (description, response patterns, question types): a prior for a style
the run barely has. (Every profile as a neighbour was measured too: it raised the planted car
repair's score, the practical profile being a how-to, and narrowed the gap; so only sparse
experts get one.) A segment is an outlier when the score is clearly low for this corpus, both
  - robust z = (score - median) / (1.4826 x MAD) <= max_z (the modified z-score of Iglewicz
    and Hoaglin, who use -3.5). The default -3.25 was chosen on real text that is not the
    tests': 60 runs of 60 real peer-support replies (Reddit, EMNLP 2020 empathy corpus) with
    one real off-topic answer planted (MedQuAD, genetic conditions); of the cutoffs -2.5 to
    -4.0 it makes the fewest errors, a lost genuine segment and a kept stray counted alike
    (10 of 3,600 genuine replies flagged, 21 of 60 strays caught; -3.5: 7 and 13; printed by
    bench/bench_offtopic.py), and
  - score < min_cosine (an absolute floor, so a tight corpus's mild variation is kept),
lowest first, never more than max_share of the scored segments.

A centroid per expert (leave-one-out mean) was measured first and dropped: on the sample
corpus it ranked the planted recording chatter fourth lowest, under two genuine segments,
because a mean over many psychology topics sits far from each of them; nearest neighbours
keep each topic's own cluster.

Without the embed extra, with fewer than min_segments scored segments, or with method
word_list, the domain word list of synth.ingest.flags runs with its share gate; the report
says which method ran and why.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from synth.config import OffTopicConfig
from synth.experts import Expert, ExpertSet
from synth.ingest.base import OffTopicOutlier, OffTopicReport
from synth.ingest.extract import Draft
from synth.text import embeddings

FLAG = "off_topic"
DUPLICATE_FLAGS = ("exact_duplicate", "near_duplicate", "duplicate_id")
LOWEST_SHOWN = 5
_BLOCK = 1024  # rows of the similarity matrix computed at once


def decide_off_topic(drafts: list[Draft], cfg: OffTopicConfig, experts: ExpertSet | None = None) -> OffTopicReport:
    """Set the off_topic flag on `drafts` by the configured method; say what ran."""
    if cfg.method == "off":
        _clear(drafts)
        return OffTopicReport(method="off", requested="off", notes=["off_topic off (ingest.off_topic.method)"])
    if cfg.method == "word_list":
        return _word_list(drafts, cfg, "word_list", [])
    candidates = [d for d in drafts if d.text and d.reason is None and "non_english" not in d.flags]
    scored = [d for d in candidates if d.word_count >= cfg.min_words]
    if not embeddings.available():
        why = f"corpus score not run: sentence embeddings are not installed ({embeddings.INSTALL_HINT})"
        return _word_list(drafts, cfg, "corpus", [why])
    if len(scored) < cfg.min_segments:
        why = (f"corpus score not run: {len(scored)} segments of {cfg.min_words}+ words, fewer than "
               f"ingest.off_topic.min_segments {cfg.min_segments}")
        return _word_list(drafts, cfg, "corpus", [why])
    return _corpus(drafts, candidates, scored, cfg, experts)


def _clear(drafts: Sequence[Draft]) -> None:
    for draft in drafts:
        if FLAG in draft.flags:
            draft.flags.remove(FLAG)


def _word_list(drafts: list[Draft], cfg: OffTopicConfig, requested: str, notes: list[str]) -> OffTopicReport:
    notes = [*notes, "off_topic by the domain word list (synth/ingest/flags.py)"]
    notes += gate_off_topic(drafts, cfg.word_list_max_share)
    flagged = sum(FLAG in d.flags for d in drafts)
    return OffTopicReport(method="word_list", requested=requested, flagged=flagged, notes=notes)


def gate_off_topic(drafts: list[Draft], max_share: float) -> list[str]:
    """off_topic measures a corpus against a psychology / relationships word list. When it
    flags more than `max_share` of the records with text, the list does not describe this
    speaker (a creator who talks about cooking or money): the flag is dropped from every
    record rather than quarantining the corpus, and the audit says so."""
    with_text = [d for d in drafts if d.text]
    flagged = [d for d in with_text if FLAG in d.flags]
    if not with_text or len(flagged) <= max_share * len(with_text):
        return []
    _clear(flagged)
    return [f"off_topic not applied: the domain word list flagged {len(flagged)} of {len(with_text)} "
            f"records ({len(flagged) / len(with_text):.0%} > ingest.off_topic.word_list_max_share "
            f"{max_share:.0%}), so this corpus is about something else"]


def sparse_experts(experts: ExpertSet | None, styles: Sequence[str | None], below: int) -> list[Expert]:
    """The experts with fewer than `below` segments in the run: their profiles stand in."""
    counts = Counter(styles)
    return [e for e in (experts.experts if experts else []) if counts[e.name] < below]


def profile_texts(experts: Sequence[Expert]) -> list[str]:
    """One text per expert: what it covers, in the experts config's own words."""
    return [" ".join([e.description, *e.response_patterns, " ".join(e.question_types).replace("_", " ")])
            for e in experts]


def neighbour_scores(vectors: np.ndarray, reference: np.ndarray, self_index: Sequence[int | None],
                     k: int) -> np.ndarray:
    """Mean cosine of each row of `vectors` to its k nearest rows of `reference` (normalised),
    a row never counting itself (self_index: its row in `reference`, or None)."""
    k = min(k, len(reference) - 1) if any(i is not None for i in self_index) else min(k, len(reference))
    scores = np.empty(len(vectors), dtype=np.float64)
    for start in range(0, len(vectors), _BLOCK):
        sims = vectors[start:start + _BLOCK] @ reference.T
        for row, own in enumerate(self_index[start:start + _BLOCK]):
            if own is not None:
                sims[row, own] = -np.inf
        top = np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:]
        scores[start:start + len(sims)] = top.mean(axis=1)
    return scores


def robust_z(scores: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(z per score, median, scaled MAD); all zeros when the MAD is 0 (no spread, no outlier)."""
    median = float(np.median(scores))
    mad = 1.4826 * float(np.median(np.abs(scores - median)))
    z = (scores - median) / mad if mad > 1e-9 else np.zeros_like(scores)
    return z, median, mad


def _corpus(drafts: list[Draft], candidates: list[Draft], scored: list[Draft], cfg: OffTopicConfig,
            experts: ExpertSet | None) -> OffTopicReport:
    vectors = embeddings.embed([d.text or "" for d in candidates])
    row_of = {id(d): i for i, d in enumerate(candidates)}
    keep = [i for i, d in enumerate(candidates) if not any(f in d.flags for f in DUPLICATE_FLAGS)]
    position = {row: p for p, row in enumerate(keep)}
    reference = vectors[keep]
    sparse = sparse_experts(experts, [candidates[i].style for i in keep], cfg.neighbours) if cfg.profiles else []
    if sparse:
        reference = np.vstack([reference, embeddings.embed(profile_texts(sparse))])
    rows = [row_of[id(d)] for d in scored]
    scores = neighbour_scores(vectors[rows], reference, [position.get(r) for r in rows], cfg.neighbours)
    z, median, mad = robust_z(scores)
    _clear(drafts)
    order = sorted(range(len(scored)), key=lambda i: scores[i])
    below = [i for i in order if z[i] <= cfg.max_z and scores[i] < cfg.min_cosine]
    cap = int(cfg.max_share * len(scored))
    chosen = below[:cap]
    for i in chosen:
        scored[i].flags.append(FLAG)
        scored[i].flag_messages[FLAG] = (
            f"off the corpus's topics: mean cosine {scores[i]:.3f} to its {cfg.neighbours} nearest segments "
            f"(corpus median {median:.3f}); robust z {z[i]:.2f} <= ingest.off_topic.max_z {cfg.max_z} and "
            f"below min_cosine {cfg.min_cosine}")
    profiles = f" and the profiles of {', '.join(e.name for e in sparse)}" if sparse else ""
    notes = [f"off_topic by the corpus score: mean cosine of each of {len(scored)} segments to its "
             f"{cfg.neighbours} nearest in this run{profiles} "
             f"(all-MiniLM-L6-v2); median {median:.3f}, scaled MAD {mad:.3f}; outlier at robust z <= "
             f"{cfg.max_z} and cosine < {cfg.min_cosine}: {len(chosen)} flagged"]
    if len(below) > cap:
        notes.append(f"{len(below) - cap} more segment(s) below the cutoff kept: at most "
                     f"ingest.off_topic.max_share {cfg.max_share:.0%} ({cap}) of the scored segments are flagged")
    return OffTopicReport(
        method="corpus", requested="corpus", scored=len(scored), median=round(median, 4), mad=round(mad, 4),
        lowest=[_outlier(scored[i], scores[i], z[i]) for i in order[:LOWEST_SHOWN]],
        outliers=[_outlier(scored[i], scores[i], z[i]) for i in chosen], flagged=len(chosen), notes=notes)


def _outlier(draft: Draft, score: float, z: float) -> OffTopicOutlier:
    text = draft.text or ""
    return OffTopicOutlier(source_file=draft.source_file, record_index=draft.record_index, style=draft.style,
                           score=round(float(score), 4), z=round(float(z), 2),
                           excerpt=text[:160] + ("…" if len(text) > 160 else ""))
