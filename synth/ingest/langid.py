"""Language identification with lingua (`lingua-language-detector`, the `screen` extra).

The cheap English function-word ratio (synth.text.stats) lets a short Spanish passage through
("no", "me", "a" are English words too) and cannot see a passage that is half English. Texts
whose function-word ratio is not clearly English are read sentence by sentence by lingua
(sentences glued without a space, "end.Next", are split too); a sentence counts as another
language only when lingua is sure of it (confidence >= SURE), and the share of words in such
sentences decides. Clearly English texts (most of a
corpus) never reach lingua, which keeps the audit fast.
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from typing import TYPE_CHECKING

from synth.text.sentences import sentences

if TYPE_CHECKING:
    from lingua import LanguageDetector

# languages lingua compares against (loading all 75 models costs about a minute and 1 GB)
LANGUAGES = ("ENGLISH", "SPANISH", "FRENCH", "GERMAN", "PORTUGUESE", "ITALIAN", "DUTCH", "POLISH",
             "TURKISH", "SWEDISH", "DANISH", "BOKMAL", "ROMANIAN", "CZECH", "INDONESIAN", "TAGALOG",
             "RUSSIAN", "UKRAINIAN", "GREEK", "ARABIC", "HINDI", "CHINESE", "JAPANESE", "KOREAN",
             "VIETNAMESE")
CLEARLY_ENGLISH = 0.25  # function-word ratio at or above which lingua is not asked
# lingua's confidence in a sentence's language at or above which the sentence counts as that
# language. Chosen on real English text that is not the test's: MedQuAD answers of the GARD and
# GHR collections cut to 6-25 words (medical terms, few function words), where lingua's top
# non-English guess for English sentences stays under 0.4 (Tagalog 0.38 for "Olivopontocerebellar
# atrophy"), while real Spanish, French and German sentences read at 0.68-0.98.
SURE = 0.5


@lru_cache(maxsize=1)
def available() -> bool:
    """lingua is installed (asked per text: the answer is kept)."""
    return importlib.util.find_spec("lingua") is not None


@lru_cache(maxsize=1)
def detector() -> LanguageDetector:
    from lingua import Language, LanguageDetectorBuilder

    languages = [getattr(Language, name) for name in LANGUAGES]
    return LanguageDetectorBuilder.from_languages(*languages).build()


def other_language(sentence: str) -> str | None:
    """The language lingua is sure (confidence >= SURE) a sentence is in, when not English."""
    values = detector().compute_language_confidence_values(sentence)
    if not values or values[0].value < SURE or values[0].language.name == "ENGLISH":
        return None
    return values[0].language.name.title()


def non_english_share(text: str) -> tuple[float, str | None]:
    """Share of the words that lie in sentences lingua is sure are another language, and the
    most common of those languages."""
    total = other = 0
    found: dict[str, int] = {}
    for sentence in sentences(text):
        words = len(sentence.split())
        total += words
        language = other_language(sentence) if words else None
        if language:
            other += words
            found[language] = found.get(language, 0) + words
    return (other / total if total else 0.0), max(found, key=found.__getitem__, default=None)


def mostly_other_language(text: str, words: int, english_words: int, min_share: float = 0.5) -> bool:
    """At least `min_share` of the words are not English (lingua), for texts of 5+ words whose
    function-word ratio is not clearly English. The non_english flag: synth.ingest.flags."""
    return other_language_reason(text, words, english_words, min_share) is not None


def other_language_reason(text: str, words: int, english_words: int, min_share: float = 0.5) -> str | None:
    """Why lingua reads the text as not English (None when it reads as English)."""
    if words < 5 or english_words / words >= CLEARLY_ENGLISH:
        return None
    share, language = non_english_share(text)
    if share < min_share:
        return None
    return (f"lingua reads {share:.0%} of the words as another language (mostly {language}); "
            f"English function words are {english_words / words:.0%} of {words} words")
