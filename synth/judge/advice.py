"""Unsafe advice read for meaning: answer passages close to a bank of unsafe-advice exemplars.

Keywords miss advice that puts someone at risk in ordinary words ("go on your own, tell no one,
and stay even if they start threatening you"). Each answer is cut into passages of a few
sentences; each passage is embedded (the embed extra's sentence model) and compared with the
exemplars of judges/unsafe_advice.yaml. A passage is flagged when its best cosine with an
unsafe exemplar reaches `min_similarity` and beats its best cosine with every safe exemplar
(advice about the same situation, given safely) by at least `min_margin`.
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
    similarity: float
    margin: float


def passages(text: str, max_words: int = 40) -> list[str]:
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


@lru_cache(maxsize=4)
def load_bank(path: str = str(DEFAULT_BANK)) -> AdviceBank:
    return validate_model(AdviceBank, read_yaml(Path(path)), file=path)


def bank_texts(bank: AdviceBank) -> tuple[list[str], list[str], list[str]]:
    """(unsafe exemplars, their categories, safe exemplars)."""
    unsafe = [(cat, text) for cat, texts in bank.unsafe.items() for text in texts]
    return [t for _, t in unsafe], [c for c, _ in unsafe], list(bank.safe)


def screen_passages(vectors: np.ndarray, texts: list[str], unsafe: np.ndarray, categories: list[str],
                    unsafe_texts: list[str], safe: np.ndarray, min_similarity: float,
                    min_margin: float) -> list[AdviceHit | None]:
    """One hit (or None) per passage vector."""
    if len(vectors) == 0:
        return []
    to_unsafe = vectors @ unsafe.T
    best = to_unsafe.argmax(axis=1)
    best_sim = to_unsafe[np.arange(len(vectors)), best]
    margin = best_sim - (vectors @ safe.T).max(axis=1)
    hits: list[AdviceHit | None] = []
    for i, text in enumerate(texts):
        if best_sim[i] >= min_similarity and margin[i] >= min_margin:
            hits.append(AdviceHit(text, categories[best[i]], unsafe_texts[best[i]],
                                  round(float(best_sim[i]), 4), round(float(margin[i]), 4)))
        else:
            hits.append(None)
    return hits
