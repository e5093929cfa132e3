"""Key concepts of a segment without a model, typed so that templates can use them.

A curated domain lexicon (prompts/concepts.yaml, loaded by synth.text.lexicon) is matched in the
text, longest phrase first: "toxic shame", "people pleasing", "the nervous system". Each
concept has a kind (feeling, pattern, topic) that decides which template slot it may fill.
Concepts rank by how often the text names them (multi-word phrases a little higher, broad ones
lower); ties break by first mention. A concept contained in a higher-ranked one ("shame" under
"toxic shame") is left out. Only when the text names no lexicon concept do its frequent nouns
(words after a determiner, never a listed non-concept) stand in, as topics outside the lexicon.
Deterministic; redaction placeholders ([NAME], [EMAIL], ...) never become concepts.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from synth.text.lexicon import Concept, Lexicon, letter_words, load_lexicon

_CHUNK = re.compile(r"[.!?;:,\n\"()\[\]]+")
_PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")
_DETERMINERS = frozenset(
    "a an the your my his her their our this these those every each".split())  # noqa: SIM905
_NOUN_SUFFIXES = ("ness", "ment", "tion", "sion", "ity", "ism", "ance", "ence", "ship", "hood")
_FUNCTION_WORDS = frozenset((  # noqa: SIM905 (a word list reads best as text)
"""about after again all also always and any are around back because been before being both but
can could did does doing done down each even ever every for from going gonna had has have here
how into its just kind like lot make many more most much must need never not now off once only
other over really same should some still such than that their them then there these they thing
this those through very want was way well were what when where which while who why will with
would your you yeah okay first second third next last little whole other another own
best worst least most
""").split())
PHRASE_BONUS, BROAD_WEIGHT = 0.25, 0.6
NOTHING = Concept("this", "topic", "this", in_lexicon=False)


@dataclass(frozen=True)
class Mention:
    name: str
    position: int


def _chunks(text: str) -> list[list[str]]:
    """Lowercase word runs of the text, split at punctuation and redaction placeholders."""
    return [letter_words(chunk) for chunk in _CHUNK.split(_PLACEHOLDER.sub(".", text))]


def find_mentions(text: str, lexicon: Lexicon | None = None) -> list[Mention]:
    """Every lexicon concept the text names, in order; the longest phrase wins at a position."""
    lex = lexicon or load_lexicon()
    found, offset = [], 0
    for chunk in _chunks(text):
        i = 0
        while i < len(chunk):
            name, size = lex.match(chunk, i)
            if name:
                found.append(Mention(name, offset + i))
            i += size or 1
        offset += len(chunk)
    return found


def concept_counts(text: str, lexicon: Lexicon | None = None) -> Counter[str]:
    """How often the text names each lexicon concept (any of its surface forms)."""
    return Counter(m.name for m in find_mentions(text, lexicon))


def repeated_concepts(text: str, lexicon: Lexicon | None = None) -> list[str]:
    """Concepts named twice, or inside another concept named too ('shame' with 'toxic shame')."""
    counts = concept_counts(text, lexicon)
    repeated = {name for name, n in counts.items() if n > 1}
    words = {name: set(letter_words(name)) for name in counts}
    repeated |= {a for a in counts for b in counts if a != b and words[a] <= words[b]}
    return sorted(repeated)


def extract_typed(text: str, max_concepts: int = 5,
                  lexicon: Lexicon | None = None) -> list[Concept]:
    """The segment's key concepts, most important first (at least one)."""
    lex = lexicon or load_lexicon()
    mentions = find_mentions(text, lex)
    counts = Counter(m.name for m in mentions)
    first: dict[str, int] = {}
    for m in mentions:
        first.setdefault(m.name, m.position)

    def score(name: str) -> float:
        weight = 1 + PHRASE_BONUS * (len(letter_words(name)) - 1)
        return counts[name] * weight * (BROAD_WEIGHT if name in lex.broad else 1.0)

    ranked = sorted(counts, key=lambda name: (-score(name), first[name]))
    chosen = [lex.entries[name] for name in _distinct(ranked, max_concepts)]
    return chosen or fallback_concepts(text, lex, max_concepts) or [NOTHING]


def extract_concepts(text: str, max_concepts: int = 5, lexicon: Lexicon | None = None) -> list[str]:
    """The names of the segment's key concepts, most important first (at least one)."""
    return [c.name for c in extract_typed(text, max_concepts, lexicon)]


def _distinct(ranked: list[str], limit: int) -> list[str]:
    """Ranked names less those inside a higher-ranked one ('toxic shame' holds 'shame')."""
    chosen: list[str] = []
    for name in ranked:
        words = set(letter_words(name))
        if any(words <= set(letter_words(c)) or set(letter_words(c)) <= words for c in chosen):
            continue
        chosen.append(name)
        if len(chosen) == limit:
            break
    return chosen


def _is_noun_candidate(word: str, lex: Lexicon) -> bool:
    return (len(word) >= 4 and word not in _FUNCTION_WORDS and word not in lex.not_concepts
            and not word.endswith(("ly", "ed")))


def fallback_concepts(text: str, lexicon: Lexicon, limit: int) -> list[Concept]:
    """Frequent nouns (after a determiner, or with a noun suffix) as topics outside the lexicon."""
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    position = 0
    for chunk in _chunks(text):
        for i, word in enumerate(chunk):
            position += 1
            after_determiner = i > 0 and chunk[i - 1] in _DETERMINERS
            if i + 1 < len(chunk) and chunk[i + 1] in ("one", "ones"):
                continue  # 'the responsible one': an adjective
            nounish = after_determiner or word.endswith(_NOUN_SUFFIXES)
            if nounish and _is_noun_candidate(word, lexicon):
                counts[word] += 1
                first.setdefault(word, position)
    ranked = sorted(counts, key=lambda w: (-counts[w], first[w]))[:limit]
    return [Concept(word, "topic", f"the {word}", in_lexicon=False) for word in ranked]


def concept_named(name: str, lexicon: Lexicon | None = None) -> Concept:
    """The lexicon concept of this name, or a topic outside the lexicon (said as written)."""
    lex = lexicon or load_lexicon()
    key = lex.name_of(name)
    return lex.entries[key] if key else Concept(name, "topic", name, in_lexicon=False)
