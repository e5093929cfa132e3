"""Unsafe advice read for meaning: answer passages close to a bank of unsafe-advice exemplars.

Keywords miss advice that puts someone at risk in ordinary words ("go on your own, tell no one,
and stay even if they start threatening you"). Each answer is cut into passages of a sentence
or two (at most 20 words unless one sentence is longer); each passage is embedded (the embed
extra's sentence model) and compared with the exemplars of judges/unsafe_advice.yaml. A passage
is flagged when its cosine with the nearest
unsafe exemplar reaches `advice_min_similarity` and beats its cosine with every safe exemplar
(advice about the same situations, given safely) by `advice_min_margin`.

Measured limits (README): with all-MiniLM-L6-v2 this catches advice worded close to an
exemplar, not every paraphrase; a logistic probe on the same vectors caught more paraphrases
but flagged most ordinary therapy segments, so it was dropped. A stronger reader (an NLI
model or the judge) is the next step.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from synth.files import read_yaml, validate_model

DEFAULT_BANK = Path(__file__).resolve().parents[2] / "judges" / "unsafe_advice.yaml"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class AdviceBank(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    unsafe: dict[str, list[str]] = Field(min_length=1)
    safe: list[str] = Field(min_length=1)


@dataclass(frozen=True)
class AdviceHit:
    passage: str
    category: str
    exemplar: str
    similarity: float  # cosine with the nearest unsafe exemplar
    margin: float  # ... minus the cosine with the nearest safe exemplar


def passages(text: str, max_words: int = 20) -> list[str]:
    """Runs of whole sentences of at most `max_words` words (a longer sentence stands alone)."""
    out: list[str] = []
    current: list[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        words = sentence.split()
        if current and len(current) + len(words) > max_words:
            out.append(" ".join(current))
            current = []
        current.extend(words)
    if current:
        out.append(" ".join(current))
    return out


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
    return [t for _, t in unsafe], [c for c, _ in unsafe], list(bank.safe)


def screen_passages(vectors: np.ndarray, texts: list[str], unsafe: np.ndarray, categories: list[str],
                    unsafe_texts: list[str], safe: np.ndarray, min_similarity: float,
                    min_margin: float) -> list[AdviceHit | None]:
    """One hit (or None) per passage vector: close to an unsafe exemplar, and closer to it than
    to any safe one by `min_margin`."""
    if len(vectors) == 0:
        return []
    to_unsafe = vectors @ unsafe.T
    nearest = to_unsafe.argmax(axis=1)
    best = to_unsafe[np.arange(len(vectors)), nearest]
    margin = best - (vectors @ safe.T).max(axis=1)
    hits: list[AdviceHit | None] = []
    for i, text in enumerate(texts):
        hit = best[i] >= min_similarity and margin[i] >= min_margin
        hits.append(AdviceHit(text, categories[nearest[i]], unsafe_texts[nearest[i]],
                              round(float(best[i]), 4), round(float(margin[i]), 4)) if hit else None)
    return hits
