"""The one sentence splitter: the crisis reading, the safety and unsafe-advice screens and the
language check all cut text into sentences here."""
from __future__ import annotations

import re

# a sentence ends at . ! ? before a space, or glued to the next sentence's capital after a word
# of two or more letters ("well.Then"; not "U.S." or "e.g.")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[a-z]{2}[.!?])(?=[A-Z][a-z])")


def sentences(text: str) -> list[str]:
    """The sentences of text, stripped, without empty ones; a full stop glued to the next
    sentence ("well.Then") ends one too, so nothing is read across the join."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]
