"""The 16 quality flags (names in synth.records.QUALITY_FLAGS), computed on every record.

Text flags look at one record; corpus flags (exact_duplicate, near_duplicate, duplicate_id)
compare records through synth.dedup, never pairwise. The heuristics are deliberately cheap:

- non_english: share of common English function words below 15% (>= 8 words).
- promo: course/sponsor/subscribe/link-in-description talk (any strong cue).
- off_topic: >= 25 words with fewer than 2% words from a psychology / mental-health /
  relationships lexicon, or more recording/weather chatter words (at least 3) than domain
  words (e.g. a presenter fixing their lights and mic).
- crisis_content: suicide and self-harm terms (the record is kept; later stages take care).
- transcript_artifacts / html_entities / pii: see synth.clean.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from synth.clean import has_artifacts, unescape_entities
from synth.dedup import exact_duplicate_clusters, near_duplicate_clusters

_WORDS = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_ENGLISH = frozenset(
    "the a an and or but if so to of in on at for with from by about as is are was were be been "
    "being am it its it's this that these those there here i i'm you you're your he she we they "
    "me my him her us our them their what when where why how who which not no don't do does did "
    "can can't will would should could have has had just like really some any all more very "
    "then than because into out up down over again also only even still too".split())
_PROMO = re.compile(
    r"link (?:is )?in (?:the|my) (?:description|bio)|description below|\bsubscrib(?:e|ing)\b|"
    r"\bsponsor(?:ed|s|ship)?\b|\bpromo code\b|\bdiscount code\b|\bcoupon\b|\buse code\b|"
    r"\bpatreon\b|become a (?:channel )?member|\bmerch\b|hit the bell|like and share|"
    r"\b(?:my|our) (?:online |new )?(?:course|programme|program|masterclass|workshop|membership|"
    r"book|app|coaching)\b.{0,80}\b(?:open|enrol|enroll|sign up|join|buy|available|launch)",
    re.IGNORECASE)
_CRISIS = re.compile(
    r"\bsuicid\w*|\bkill(?:ing)? (?:my|your|them|him|her)sel(?:f|ves)\b|"
    r"\bend(?:ing)? (?:my|your|their|his|her) (?:own )?li(?:fe|ves)\b|\bself[- ]harm\w*|"
    r"\b(?:hurt|harm|cut)(?:ing)? (?:my|your)sel(?:f|ves)\b|"
    r"\b(?:hurting|harming|cutting|to hurt|to harm|to cut) (?:them|him|her)sel(?:f|ves)\b|"
    r"\bnot (?:wanting|want) to (?:be alive|live|be here)\b|\bwant(?:ing)? to die\b|"
    r"\boverdos\w*|\bthoughts of (?:death|dying|not wanting)",
    re.IGNORECASE)
_DOMAIN_STEMS = tuple(
    "feel felt emotion trauma shame guilt anxi fear afraid scare grief griev heal therap parent "
    "child kid famil mother mum mom father dad sibling relationship partner friend boundar "
    "attach nervous body bodies brain self yourself myself themselves worth love lonel sad anger "
    "angry hurt pain safe safety stress panic depress mental psycholog cope coping regulat "
    "trigger flashback dissociat pleas codepend narciss abus critic compassion support care "
    "kind need breath calm worry mind memor perfection procrastinat resent cry tear comfort "
    "hope heart trust connect validat reassur avoid alone secur insecur vulnerab forgiv resting "
    "overwhelm habit value belief thought behavio pattern react respond patien gentle wound "
    "recover crisis help vigilan threat danger alarm startl tired exhaust inhal exhal sooth "
    "ground orient notic aware childhood grow grew upbring adult people person someone "
    "everyone nobody life lives experienc learn journal exercis practi confront apolog cope "
    "judg blame lazy stupid enough too much sensitiv identit inner voice".split())
# production chatter, weather and logistics: talk about the recording, not the topic
_OFF_TOPIC_STEMS = tuple(
    "light camera mic microphone record audio setup tripod lens battery wifi internet "
    "weather rain overcast cloud sunny sunshine snow skylight blanket editing edit "
    "upload channel thumbnail lunch coffee parking traffic".split())


def words(text: str) -> list[str]:
    return _WORDS.findall(text.casefold())


def is_non_english(tokens: Sequence[str]) -> bool:
    if len(tokens) < 8:
        return False
    return sum(1 for t in tokens if t in _ENGLISH) / len(tokens) < 0.15


def is_promo(text: str) -> bool:
    return bool(_PROMO.search(text))


def is_crisis(text: str) -> bool:
    return bool(_CRISIS.search(text))


def domain_ratio(tokens: Sequence[str]) -> float:
    hits = sum(1 for t in tokens if t.startswith(_DOMAIN_STEMS))
    return hits / len(tokens) if tokens else 0.0


def is_off_topic(tokens: Sequence[str]) -> bool:
    """Hardly any domain words, or more recording/weather chatter than domain words."""
    if len(tokens) < 25:
        return False
    domain = sum(1 for t in tokens if t.startswith(_DOMAIN_STEMS))
    chatter = sum(1 for t in tokens if t.startswith(_OFF_TOPIC_STEMS))
    return domain < 0.02 * len(tokens) or (chatter >= 3 and chatter > domain)


def text_flags(original: str, cleaned: str, redactions: dict[str, int],
               min_words: int, max_words: int) -> list[str]:
    """Flags of one record's text (original for artifacts/entities, cleaned for the rest)."""
    tokens = words(cleaned)
    checks = {
        "empty_text": not tokens,
        "too_short": 0 < len(tokens) < min_words,
        "too_long": len(tokens) > max_words,
        "non_english": is_non_english(tokens),
        "transcript_artifacts": has_artifacts(unescape_entities(original)[0]),
        "html_entities": unescape_entities(original)[1],
        "promo": is_promo(cleaned),
        "off_topic": bool(tokens) and not is_non_english(tokens) and is_off_topic(tokens),
        "pii": bool(redactions),
        "crisis_content": is_crisis(cleaned),
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
                      num_perm: int = 64) -> tuple[list[int | None], list[int | None]]:
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
