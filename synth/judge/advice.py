"""Unsafe advice read for meaning: answer sentences scored against a bank of paired exemplars.

Keywords miss advice that puts someone at risk in ordinary words ("go on your own, tell no one,
and stay even if they start threatening you"). Each answer is cut into sentences (one of fewer
than `MIN_WORDS` words joins the next); each is embedded (the embed extra's sentence model) and
compared with judges/unsafe_advice.yaml, where every unsafe category has a safe counterpart on
the same situations, so the scores separate the stance of the advice, not its topic. A small
logistic scorer (weights in the bank, fitted by bench/bench_advice.py --fit on bench/data)
reads five features of a sentence:

  nearest_unsafe   cosine with the nearest unsafe exemplar
  margin           mean cosine with the 3 nearest unsafe exemplars minus the 3 nearest safe
  vote             share of unsafe exemplars among the k nearest of both sides
  stance           projection on (mean unsafe exemplar - mean safe exemplar), normalised
  protective       protective stance words ("please", "somewhere safe", "you don't have to")

A sentence is a hit when its nearest unsafe cosine reaches `advice_min_similarity` and its
probability reaches `advice_min_probability`. Measured limits (README, bench/bench_advice.py):
all-MiniLM-L6-v2 catches about half of unseen paraphrases at a low false-alarm rate, not all.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from synth.files import read_yaml, validate_model
from synth.text.sentences import sentences

DEFAULT_BANK = Path(__file__).resolve().parents[2] / "judges" / "unsafe_advice.yaml"
LONG_RUN_WORDS = 40  # a "sentence" longer than this has lost its punctuation (auto-captions)
WINDOW_WORDS = 16  # ... and is read in windows of this many words,
WINDOW_STRIDE = 8  # ... overlapping by half, so a clause across a boundary is read whole once
MIN_WORDS = 9  # at 6, five-to-eight-word fragments scored p 0.9 on the sample corpus (bench_advice.py)
FEATURES = ("nearest_unsafe", "margin", "vote", "stance", "protective")
_PROTECTIVE = re.compile(
    r"\b(?:please|safe(?:ly|r|st)?|trust(?:ed)?|support|gentle|kind(?:ness)?|okay|ok|allowed"
    r"|deserve|it's\s+(?:normal|natural|common|understandable)|you\s+don't\s+have\s+to"
    r"|reach\s+out|talk\s+(?:it\s+)?(?:to|with|through)|ask\s+for\s+help)\b", re.IGNORECASE)


class AdviceScorer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    neighbours: int = Field(7, ge=1)  # k of the nearest-exemplar vote
    top: int = Field(3, ge=1)  # exemplars averaged on each side for the margin
    bias: float
    weights: dict[Literal[FEATURES], float]  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _every_feature(self) -> AdviceScorer:
        missing = set(FEATURES) - set(self.weights)
        if missing:
            raise ValueError(f"weights missing for {sorted(missing)}")
        return self


class AdviceBank(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    unsafe: dict[str, list[str]] = Field(min_length=1)
    safe: dict[str, list[str]] = Field(min_length=1)  # the same categories, given safely
    scorer: AdviceScorer

    @model_validator(mode="after")
    def _paired(self) -> AdviceBank:
        unpaired = set(self.safe) - set(self.unsafe)
        if unpaired:
            raise ValueError(f"safe categories with no unsafe counterpart: {sorted(unpaired)}")
        return self


@dataclass(frozen=True)
class AdviceHit:
    passage: str
    category: str  # of the nearest unsafe exemplar
    exemplar: str
    similarity: float  # cosine with the nearest unsafe exemplar
    probability: float  # the scorer's


def passages(text: str, min_words: int = MIN_WORDS) -> list[str]:
    """The sentences of text; one of fewer than `min_words` words joins the next (the last,
    the previous), since a three-word sentence says too little to embed on its own. A run of
    more than LONG_RUN_WORDS words without a sentence end (a transcript without punctuation)
    is read in overlapping windows, so nothing past the encoder's token limit goes unread and a
    long run does not dilute one risky clause."""
    out: list[str] = []
    current: list[str] = []
    for sentence in sentences(text):
        current.extend(sentence.split())
        if len(current) >= min_words:
            out.extend(_windows(current))
            current = []
    if current:
        if out:
            out[-1] = f"{out[-1]} {' '.join(current)}"
        else:
            out.extend(_windows(current))
    return out


def _windows(words: list[str]) -> list[str]:
    if len(words) <= LONG_RUN_WORDS:
        return [" ".join(words)]
    starts = range(0, len(words) - WINDOW_WORDS + WINDOW_STRIDE, WINDOW_STRIDE)
    return [" ".join(words[start:start + WINDOW_WORDS]) for start in starts]


def bank_path(path: str) -> Path:
    """A configured bank path: as given when it exists, else relative to the synth checkout."""
    given = Path(path)
    return given if given.is_absolute() or given.exists() else DEFAULT_BANK.parents[1] / given


@lru_cache(maxsize=4)
def load_bank(path: str) -> AdviceBank:
    file = bank_path(path)
    return validate_model(AdviceBank, read_yaml(file), file=str(file))


def bank_texts(bank: AdviceBank) -> tuple[list[str], list[str], list[str]]:
    """(unsafe exemplars, their categories, safe exemplars)."""
    unsafe = [(cat, text) for cat, texts in bank.unsafe.items() for text in texts]
    safe = [text for texts in bank.safe.values() for text in texts]
    return [t for _, t in unsafe], [c for c, _ in unsafe], safe


def features(vectors: np.ndarray, texts: list[str], unsafe: np.ndarray, safe: np.ndarray,
             scorer: AdviceScorer) -> np.ndarray:
    """The scorer's features (columns in FEATURES order), one row per passage vector."""
    to_unsafe, to_safe = vectors @ unsafe.T, vectors @ safe.T
    top_u = min(scorer.top, unsafe.shape[0])
    top_s = min(scorer.top, safe.shape[0])
    margin = (np.sort(to_unsafe, axis=1)[:, -top_u:].mean(axis=1)
              - np.sort(to_safe, axis=1)[:, -top_s:].mean(axis=1))
    both = np.concatenate([to_unsafe, to_safe], axis=1)
    k = min(scorer.neighbours, both.shape[1])
    nearest = np.argpartition(-both, k - 1, axis=1)[:, :k]
    vote = (nearest < unsafe.shape[0]).mean(axis=1)
    direction = unsafe.mean(axis=0) - safe.mean(axis=0)
    stance = vectors @ (direction / np.linalg.norm(direction))
    protective = np.array([min(len(_PROTECTIVE.findall(t)), 2) for t in texts], dtype=np.float32)
    return np.column_stack([to_unsafe.max(axis=1), margin, vote, stance, protective])


def probabilities(rows: np.ndarray, scorer: AdviceScorer) -> np.ndarray:
    logit = rows @ np.array([scorer.weights[f] for f in FEATURES]) + scorer.bias
    return 1.0 / (1.0 + np.exp(-logit))


def screen_passages(vectors: np.ndarray, texts: list[str], unsafe: np.ndarray, categories: list[str],
                    unsafe_texts: list[str], safe: np.ndarray, scorer: AdviceScorer,
                    min_similarity: float, min_probability: float) -> list[AdviceHit | None]:
    """One hit (or None) per passage vector: near the bank's unsafe side (`min_similarity`)
    and scored unsafe (`min_probability`)."""
    if len(vectors) == 0:
        return []
    rows = features(vectors, texts, unsafe, safe, scorer)
    probability = probabilities(rows, scorer)
    nearest = (vectors @ unsafe.T).argmax(axis=1)
    hits: list[AdviceHit | None] = []
    for i, text in enumerate(texts):
        hit = rows[i, 0] >= min_similarity and probability[i] >= min_probability
        hits.append(AdviceHit(text, categories[nearest[i]], unsafe_texts[nearest[i]],
                              round(float(rows[i, 0]), 4), round(float(probability[i]), 4))
                    if hit else None)
    return hits
