"""Language ID with lingua (the `screen` extra): short and mixed-language passages."""
from __future__ import annotations

import json
from pathlib import Path

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


# Real English from NIH sites (MedQuAD, CC BY 4.0: Ben Abacha & Demner-Fushman 2019), the
# collections that did not choose langid.SURE; 60 answers drawn at random, each read whole (up
# to 150 words), cut to 12 and 25 words, and glued ("end.Next").
MEDQUAD = [json.loads(line)["text"] for line in
           (Path(__file__).parent / "data" / "medquad_english.jsonl").read_text(encoding="utf-8").splitlines()]


def test_real_english_is_never_non_english() -> None:
    variants = [v for text in MEDQUAD for v in (text, " ".join(text.split()[:12]), " ".join(text.split()[:25]),
                                               text.replace(". ", "."))]
    flagged = [v for v in variants if is_non_english(profile(v), v)]
    assert len(variants) == 240 and flagged == []


@pytest.mark.parametrize("sentence", ["Psoriasis (sow RYE uh sis) is", "Olivopontocerebellar atrophy",
                                      "Clear cell renal cell carcinoma is"])
def test_a_sentence_lingua_is_unsure_of_stays_english(sentence: str) -> None:
    assert langid.other_language(sentence) is None


def test_glued_sentences_are_read_apart() -> None:
    text = "Healing takes time and that is okay.Pero cuando la familia no entiende lo que te pasa, duele mucho."
    share, language = langid.non_english_share(text)
    assert language == "Spanish" and 0.5 < share < 0.8


def test_the_message_says_lingua_decided(tmp_path: Path) -> None:
    from ingest_fixture import experts

    from synth.ingest.stage import ingest_paths

    text = " ".join([SHORT_SPANISH] * 2)
    path = tmp_path / "export.json"
    path.write_text(json.dumps([{"text": text, "style": "empathetic", "confidence": 0.9}]), encoding="utf-8")
    (record,) = ingest_paths([str(path)], experts()).quarantined
    assert record.reason == "non_english"
    assert record.message.startswith("lingua reads 100% of the words as another language (mostly Spanish)")
    assert "few English function words" not in record.message
