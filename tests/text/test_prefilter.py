"""synth.text.prefilter: an Alternatives search gives what its joined pattern gives, and no
alternative's prefilter can turn away a text it matches."""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synth.ingest import flags, injection, pii
from synth.text import crisis
from synth.text.prefilter import Alternatives, folded

ROOT = Path(__file__).resolve().parents[2]
SEARCHES = {"crisis": crisis._CRISIS, "promo": flags._PROMO, "template": injection._TEMPLATE,
            "header": injection._HEADER, "address": injection._ADDRESS, "json": injection._JSON,
            "pii_candidate": pii._CANDIDATE}
ALTERNATIVES = [(name, index) for name, search in SEARCHES.items() for index in range(len(search.alternatives))]


def _same(a: re.Match[str] | None, b: re.Match[str] | None) -> bool:
    return (a and (a.span(), a.group(0))) == (b and (b.span(), b.group(0)))


@pytest.mark.parametrize(("name", "index"), ALTERNATIVES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_a_text_an_alternative_matches_holds_the_words_it_needs(name: str, index: int, data: st.DataObject) -> None:
    search = SEARCHES[name]
    _, pattern, needs = search.alternatives[index]
    text = data.draw(st.from_regex(pattern))
    seen = folded(text) if search.pattern.flags & re.IGNORECASE else text
    assert all(any(word in seen for word in group) for group in needs)
    assert _same(search.search(text), search.pattern.search(text))


def _texts() -> list[str]:
    """Real text in the repository: the example corpus, the bench sets, the tests' own cases."""
    texts: list[str] = []
    for path in sorted((ROOT / "examples" / "corpus").iterdir()):
        raw = path.read_text(encoding="utf-8")
        jsonl = path.suffix == ".jsonl"
        rows = [json.loads(line) for line in raw.splitlines() if line.strip()] if jsonl else json.loads(raw)
        rows = rows.get("segments", rows) if isinstance(rows, dict) else rows
        texts += [str(row.get("text") or row.get("segment_text") or "") for row in rows if isinstance(row, dict)]
    for path in sorted((ROOT / "bench" / "data").glob("*.yaml")):
        texts += re.findall(r"[^\n]{12,}", path.read_text(encoding="utf-8"))
    for path in [*sorted((ROOT / "tests" / "ingest").glob("test_*.py")), ROOT / "tests" / "judge" / "test_crisis.py"]:
        texts += re.findall(r'"([^"\n]{8,})"', path.read_text(encoding="utf-8"))
    rng = random.Random(0)  # and the same with random capitals and the letters re folds (İ ı ſ K)
    shaken = ["".join(c.upper() if rng.random() < 0.3 else c for c in t).replace("s", "\u017f", 1)
              .replace("i", "\u0131", 1).replace("k", "\u212a", 1) for t in texts]
    return texts + shaken


def test_the_searches_give_what_their_joined_patterns_give_on_real_text() -> None:
    texts = _texts()
    assert len(texts) > 1000  # the corpus is there
    matched = dict.fromkeys(SEARCHES, 0)
    for name, search in SEARCHES.items():
        for text in texts:
            joined = search.pattern.search(text)
            assert _same(search.search(text), joined), (name, text)
            matched[name] += joined is not None
    assert all(matched.values()), matched  # every search meets texts it matches


def test_a_tie_goes_to_the_earlier_alternative_and_the_leftmost_match_wins() -> None:
    search = Alternatives([(r"ab", [("ab",)]), (r"a", [("a",)]), (r"zz", [("zz",)])])
    assert search.search("xxab").group(0) == "ab"  # same start: the first alternative
    assert search.search("a ab").span() == (0, 1)  # leftmost, whichever alternative
    assert search.search("zz") is not None and search.search("q") is None
    assert folded("\u0130\u0131\u017f\u212aA") == "iiska"
