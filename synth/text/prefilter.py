"""A regex written as its top-level alternatives, each searched only when words it needs are in the text.

The ingest screens (prompt injection, promo, crisis words) search every text of a corpus with
patterns of ten or more alternatives, which Python's re tries at every position of the text:
about 0.3 ms per text each. Most alternatives need a word that most texts lack ("disregard",
"subscrib", "suicid"); a substring test finds that out at C speed. Alternatives(...).search
gives what the joined pattern's search gives (the leftmost match, the earlier alternative at a
tie), searching only the alternatives whose needed words are all there.

`needs` of an alternative: groups of words, each group one of which every match contains
(lowercase; with re.IGNORECASE the text is lowercased the way re compares, so a word the
pattern matches case-insensitively is found). A wrong `needs` would lose matches: the tests
check every group against the alternative's own source and the result against the joined
pattern on real text.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

# the non-ASCII characters re.IGNORECASE matches to ASCII letters (İ ı ſ K); str.lower() alone
# would leave "ſ" and "ı" and turn "İ" into two characters
_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})
Needs = Sequence[Sequence[str]]


def folded(text: str) -> str:
    """The text as re.IGNORECASE compares it with an ASCII pattern: lowercase, İ ı ſ K folded."""
    return text.lower() if text.isascii() else text.translate(_FOLD).lower()


class Alternatives:
    """re.compile("|".join(alternatives), flags) with a prefilter per alternative."""

    def __init__(self, alternatives: Sequence[tuple[str, Needs]], flags: int = 0):
        self.pattern = re.compile("|".join(source for source, _ in alternatives), flags)
        self.alternatives = [(source, re.compile(source, flags), tuple(tuple(group) for group in needs))
                             for source, needs in alternatives]
        self._fold = bool(flags & re.IGNORECASE)

    def search(self, text: str) -> re.Match[str] | None:
        """The joined pattern's search(text)."""
        seen = folded(text) if self._fold else text
        best: re.Match[str] | None = None
        for _, pattern, needs in self.alternatives:
            if all(any(word in seen for word in group) for group in needs):
                match = pattern.search(text)
                if match is not None and (best is None or match.start() < best.start()):
                    best = match
        return best
