"""The 17 quality flags (names in synth.records.QUALITY_FLAGS), computed on every record.

Text flags look at one record; corpus flags (exact_duplicate, near_duplicate, duplicate_id)
compare records through synth.text.minhash, never pairwise. The heuristics are deliberately cheap:

- non_english: lingua reads half the words or more as another language (synth.ingest.langid;
  without the `screen` extra: English function words under 15% of >= 8 words).
- promo: course/sponsor/subscribe/link-in-description talk (any strong cue).
- off_topic: >= 25 words with fewer than 2% words from a psychology / mental-health /
  relationships lexicon, or more recording/weather chatter words (at least 3) than domain
  words (e.g. a presenter fixing their lights and mic). This is the fallback: by default
  synth.ingest.topic replaces it with a score read from the run's own corpus.
- crisis_content: suicide and self-harm words as synth.text.crisis reads them, the detector the
  judge's safety screen uses too (the record is kept; later stages take care).
- transcript_artifacts / html_entities / pii: see synth.clean.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from synth.ingest.clean import CleanResult
from synth.ingest.langid import available as lingua_available
from synth.ingest.langid import mostly_other_language
from synth.text.crisis import mentions_crisis
from synth.text.minhash import exact_duplicate_clusters, near_duplicate_clusters
from synth.text.prefilter import Alternatives
from synth.text.stats import TextProfile, profile

_PROMO = Alternatives((  # (alternative, words it needs: synth.text.prefilter)
    (r"link (?:is )?in (?:the|my) (?:description|bio)", [("link ",), ("description", "bio")]),
    (r"description below", [("description below",)]),
    (r"\bsubscrib(?:e|ing)\b", [("subscrib",)]),
    (r"\bsponsor(?:ed|s|ship)?\b", [("sponsor",)]),
    (r"\bpromo code\b", [("promo code",)]),
    (r"\bdiscount code\b", [("discount code",)]),
    (r"\bcoupon\b", [("coupon",)]),
    (r"\buse code\b", [("use code",)]),
    (r"\bpatreon\b", [("patreon",)]),
    (r"become a (?:channel )?member", [("become a ",), ("member",)]),
    (r"\bmerch\b", [("merch",)]),
    (r"hit the bell", [("hit the bell",)]),
    (r"like and share", [("like and share",)]),
    (r"\b(?:my|our) (?:online |new )?(?:course|programme|program|masterclass|workshop|membership|"
     r"book|app|coaching)\b.{0,80}\b(?:open|enrol|enroll|sign up|join|buy|available|launch)",
     [("my ", "our "), ("course", "program", "masterclass", "workshop", "membership", "book", "app", "coaching"),
      ("open", "enrol", "sign up", "join", "buy", "available", "launch")]),
), re.IGNORECASE)


def is_non_english(stats: TextProfile, text: str | None = None) -> bool:
    """lingua (synth.ingest.langid) when the `screen` extra is installed and the text is given;
    else the function-word ratio: under 15% English function words (8+ words)."""
    if text is not None and lingua_available():
        return mostly_other_language(text, stats.words, stats.english)
    return stats.words >= 8 and stats.english / stats.words < 0.15


def is_promo(text: str) -> bool:
    return bool(_PROMO.search(text))  # each alternative only when its words are there


def is_crisis(text: str) -> bool:
    """The judge's crisis detector (synth.text.crisis), one for both stages."""
    return mentions_crisis(text)


def is_off_topic(stats: TextProfile) -> bool:
    """Hardly any domain words, or more recording/weather chatter than domain words."""
    if stats.words < 25:
        return False
    return stats.domain < 0.02 * stats.words or (stats.chatter >= 3 and stats.chatter > stats.domain)


def text_flags(cleaned: CleanResult, min_words: int, max_words: int) -> list[str]:
    """Flags of one record's text from its cleaning result (artifacts/entities seen before
    cleaning; the rest judged on the cleaned text)."""
    stats = cleaned.profile or profile(cleaned.text)
    non_english = is_non_english(stats, cleaned.text)
    checks = {
        "empty_text": stats.words == 0,
        "too_short": 0 < stats.words < min_words,
        "too_long": stats.words > max_words,
        "non_english": non_english,
        "transcript_artifacts": cleaned.had_artifacts,
        "html_entities": cleaned.had_entities,
        "promo": is_promo(cleaned.text),
        "off_topic": stats.words > 0 and not non_english and is_off_topic(stats),
        "pii": bool(cleaned.redactions),
        "crisis_content": is_crisis(cleaned.text),
    }
    return [name for name, hit in checks.items() if hit]


def duplicate_id_keepers(keys: Sequence[str | None]) -> list[int | None]:
    """Per record: index of the earlier record with the same key (None when first/no key)."""
    first: dict[str, int] = {}
    result: list[int | None] = []
    for index, key in enumerate(keys):
        keeper = first.setdefault(key, index) if key is not None else index
        result.append(keeper if keeper != index else None)
    return result


def duplicate_keepers(texts: Sequence[str], groups: Sequence[str], threshold: float,
                      num_perm: int = 128) -> tuple[list[int | None], list[int | None]]:
    """(exact, near) per text: index of the earlier text it duplicates, else None.

    Texts come in keeper-first order. Exact: same normalised text anywhere in the corpus.
    Near: overlapping windows of one group (video) whose shingle overlap coefficient
    reaches `threshold`; exact duplicates are not counted again as near duplicates.
    """
    exact = exact_duplicate_clusters(texts)
    near = near_duplicate_clusters(texts, threshold, num_perm, groups=groups, measure="overlap")
    exact_of = [cluster if cluster != i else None for i, cluster in enumerate(exact)]
    near_of = [cluster if cluster != i and exact_of[i] is None else None for i, cluster in enumerate(near)]
    return exact_of, near_of
