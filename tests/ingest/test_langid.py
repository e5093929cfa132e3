"""Language ID with lingua (the `screen` extra): short and mixed-language passages."""
from __future__ import annotations

import pytest

from synth.ingest import langid
from synth.ingest.flags import is_non_english
from synth.text.stats import profile

pytestmark = pytest.mark.skipif(not langid.available(), reason="screen extra not installed")

SHORT_SPANISH = ("A veces no me doy cuenta de que estoy cansada hasta que mi cuerpo me lo dice, y "
                 "entonces tengo que parar un momento y respirar.")  # 26 words, many 'English' ones
MIXED = ("Healing takes time, and that is okay. Pero cuando la familia no entiende lo que te pasa, "
         "duele mucho y te sientes sola. Y no sabes a quién pedir ayuda cuando todo se complica.")
ENGLISH_WITH_A_PHRASE = ("My grandmother used to say poco a poco, little by little, and I think about "
                         "that whenever I try to rush my own healing or expect too much of myself.")


@pytest.mark.parametrize("text", [SHORT_SPANISH, MIXED])
def test_short_and_mixed_passages_are_not_english(text: str) -> None:
    assert is_non_english(profile(text), text)


def test_the_function_word_ratio_alone_missed_the_short_passage() -> None:
    assert not is_non_english(profile(SHORT_SPANISH))  # the old rule, kept as the fallback


def test_english_with_a_foreign_phrase_is_english() -> None:
    assert not is_non_english(profile(ENGLISH_WITH_A_PHRASE), ENGLISH_WITH_A_PHRASE)
