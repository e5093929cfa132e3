"""Language identification with lingua (`lingua-language-detector`, the `screen` extra).

The cheap English function-word ratio (synth.text.stats) lets a short Spanish passage through
("no", "me", "a" are English words too) and cannot see a passage that is half English. Texts
whose function-word ratio is not clearly English are read sentence by sentence by lingua; the
share of words in sentences that are not English decides. Clearly English texts (most of a
corpus) never reach lingua, which keeps the audit fast.
"""
from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lingua import LanguageDetector

# languages lingua compares against (loading all 75 models costs about a minute and 1 GB)
LANGUAGES = ("ENGLISH", "SPANISH", "FRENCH", "GERMAN", "PORTUGUESE", "ITALIAN", "DUTCH", "POLISH",
             "TURKISH", "SWEDISH", "DANISH", "BOKMAL", "ROMANIAN", "CZECH", "INDONESIAN", "TAGALOG",
             "RUSSIAN", "UKRAINIAN", "GREEK", "ARABIC", "HINDI", "CHINESE", "JAPANESE", "KOREAN",
             "VIETNAMESE")
CLEARLY_ENGLISH = 0.25  # function-word ratio at or above which lingua is not asked
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def available() -> bool:
    return importlib.util.find_spec("lingua") is not None


@lru_cache(maxsize=1)
def detector() -> LanguageDetector:
    from lingua import Language, LanguageDetectorBuilder

    languages = [getattr(Language, name) for name in LANGUAGES]
    return LanguageDetectorBuilder.from_languages(*languages).build()


def non_english_share(text: str) -> float:
    """Share of the words that lie in sentences lingua reads as another language."""
    from lingua import Language

    total = other = 0
    for sentence in _SENTENCE.split(text.strip()):
        words = len(sentence.split())
        total += words
        if words and detector().detect_language_of(sentence) not in (Language.ENGLISH, None):
            other += words
    return other / total if total else 0.0


def mostly_other_language(text: str, words: int, english_words: int, min_share: float = 0.5) -> bool:
    """At least `min_share` of the words are not English (lingua), for texts of 5+ words whose
    function-word ratio is not clearly English. The non_english flag: synth.ingest.flags."""
    if words < 5 or english_words / words >= CLEARLY_ENGLISH:
        return False
    return non_english_share(text) >= min_share
