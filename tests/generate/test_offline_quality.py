"""Offline provider quality: lexicon concepts, typed template fills, variety, and the offline
judge's penalties for what a template fill can still get wrong. Test texts are our own."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from generate_fixture import REPO

from synth.config import ChecksConfig, SafetyConfig
from synth.errors import ConfigError
from synth.experts import load_experts
from synth.generate.offline import OfflineQuestionWriter
from synth.generate.prompts import GenerationPrompts
from synth.judge.checks import PairChecks, formatting
from synth.judge.offline import PREFIX, authenticity, template_faults
from synth.judge.safety import SafetyPolicy
from synth.llm.types import LLMRequest
from synth.text.concepts import concept_named, extract_concepts, extract_typed, repeated_concepts
from synth.text.lexicon import KINDS, load_lexicon

JUNK = {"step", "decision", "self", "agree", "please", "sentence", "question", "information", "task",
        "extra", "viewer"}
TEXTS = {
    "therapeutic": [
        ("When a child is punished for crying, toxic shame settles in early. Later, that toxic shame "
         "shows up as people pleasing: you agree before you decide, you please before you check. "
         "Your nervous system learned that calm faces meant safety. Healing is slow, one step at a time."),
        ("If you notice hypervigilance in your body every time your partner sighs, that is not a flaw. "
         "It is an old alarm. Grounding helps, and so does asking the question: how old is this fear? "
         "Your inner child is still scanning the room."),
        ("Fawning often starts in families where anger was unpredictable. Every decision became about "
         "keeping the peace. In recovery, people notice their fawning first at work, and that is a "
         "good sign, because noticing is where the pattern loosens."),
    ],
    "educational": [
        ("Rumination and worry look alike, but they are different. Worry points forward at threats "
         "that might come. Rumination loops backward over what already happened. Both keep the "
         "threat response switched on, which is why the body stays tense."),
        ("Let me explain attachment. Secure attachment means you expect comfort when you reach out. "
         "Anxious attachment means you reach out louder because comfort was unreliable. Your "
         "attachment style is a strategy, not a sentence."),
        ("The window of tolerance is the zone where you can feel emotions without being flooded. "
         "Above it you get panic and anxiety, below it you get numbness and shutting down. Emotional "
         "regulation is about widening that window, a little at a time."),
    ],
    "empathetic": [
        ("If loneliness has followed you into every room this year, I want you to hear this. Your "
         "grief is not a failure. Grief after a loss is love with nowhere to go, and the exhaustion "
         "you feel makes complete sense."),
        ("Some of you carry so much guilt for things that were never yours to carry. The guilt says "
         "you should have known better. You were a child. You deserve compassion, not more blame."),
        ("When burnout hits, it can feel like you have nothing left for anyone. That emptiness is "
         "real, and it is not weakness. Resting is not something you have to earn."),
    ],
    "practical": [
        ("Here is a boundary script for the next family dinner. Say: I am not going to discuss my "
         "weight. If it continues, I will step outside. Then follow through. Boundaries only work "
         "when you act on them, even when guilt shows up."),
        ("Try this grounding exercise when anxiety spikes: name five things you can see, four you "
         "can hear, three you can touch. Then breathe out slowly. Practise it daily so your nervous "
         "system knows the routine before you need it."),
        ("If procrastination keeps winning, shrink the task until it feels silly. Two minutes of "
         "the email, then stop. Perfectionism feeds procrastination, so aim for done, not perfect, "
         "and track each small win in a journal."),
    ],
}
EXPERTS = list(TEXTS)


@pytest.fixture(scope="module")
def writer() -> OfflineQuestionWriter:
    prompts = GenerationPrompts(REPO / "prompts", load_experts(REPO / "configs/experts.yaml"))
    return OfflineQuestionWriter(prompts)


def segments() -> list[tuple[str, str]]:
    """24 (expert, text) segments: every text twice, told apart by a marker."""
    return [(expert, f"{text} Remember zq{i:04d}x.") for i in range(2)
            for expert in EXPERTS for text in TEXTS[expert]]


def generate(writer: OfflineQuestionWriter, seed: int, k: int = 2) -> list[dict]:
    """Plan and write K questions for each of the 24 segments, as the generate stage does."""
    rows = []
    for n, (expert_name, text) in enumerate(segments()):
        expert = writer.prompts.experts.get(expert_name)
        slots = writer.prompts.plan(expert, k, f"{seed}:{n}")
        inputs = {"kind": "generate", "expert": expert_name, "text": text,
                  "types": list(expert.question_types), "slots": [s.__dict__ for s in slots]}
        value = writer(LLMRequest(item_id=str(n), messages=[], template_hash="t", offline_inputs=inputs))
        for slot, item in zip(slots, value.questions):
            rows.append({"segment": n, "expert": expert_name, "text": text, "slot": slot,
                         "question": item.question, "question_type": item.question_type,
                         "concepts": value.concepts})
    return rows


def test_concepts_are_lexicon_phrases_not_verbs():
    text = TEXTS["therapeutic"][0]
    typed = extract_typed(text)
    names = [c.name for c in typed]
    assert names[:3] == ["toxic shame", "people pleasing", "nervous system"]
    assert all(c.in_lexicon for c in typed) and not JUNK & set(names)
    assert "shame" not in names  # inside 'toxic shame', so redundant
    kinds = {c.name: c.kind for c in typed}
    assert kinds["toxic shame"] == "feeling" and kinds["people pleasing"] == "pattern"
    assert concept_named("nervous system").say == "the nervous system"
    assert extract_concepts(text) == names == [c.name for c in extract_typed(text)]


def test_surface_forms_map_to_one_concept():
    text = "I felt ashamed and guilty. The people-pleasers in my family felt guilty too. Shame again."
    counts = Counter(extract_concepts(text, max_concepts=5))
    assert set(counts) == {"shame", "guilt", "people pleasing"} and max(counts.values()) == 1
    assert extract_concepts(text)[0] == "shame"  # named three times, first mention breaks the tie


def test_fallback_nouns_when_the_text_names_no_lexicon_concept():
    text = ("Please agree to check the garden before the storm. The garden needs a fence, and the fence "
            "needs a gate. Take one step, then the next step, and answer every question.")
    typed = extract_typed(text)
    assert [c.name for c in typed] == ["garden", "fence", "storm", "gate"]
    assert all(not c.in_lexicon and c.kind == "topic" for c in typed)
    assert not JUNK & {c.name for c in typed} and typed[0].say == "the garden"


def write_lexicon(path: Path, **changes) -> Path:
    data = {"feeling": {"shame": ["ashamed"]}, "pattern": {"fawning": []}, "topic": {"trauma": []},
            "practice": {"grounding": []}, "idea": {"nervous system": []}}
    data.update(changes)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("changes, key, message", [
    ({"topic": {"trauma": ["ashamed"]}}, "topic.trauma", "also belongs to 'shame'"),
    ({"say": {"grief": "the grief"}}, "say", "not a concept"),
    ({"extra_key": []}, "extra_key", "Extra inputs"),
    ({"pattern": {"Fawning!": []}}, "pattern", "String should match"),
    ({"not_concepts": ["ashamed"]}, "not_concepts", "concept forms too"),
])
def test_the_lexicon_is_loaded_strictly(tmp_path, changes, key, message):
    path = write_lexicon(tmp_path / "concepts.yaml", **changes)
    with pytest.raises(ConfigError) as err:
        load_lexicon(path)
    assert str(path) in str(err.value) and key in str(err.value) and message in str(err.value)


def test_no_generated_question_repeats_a_concept_and_each_names_its_own(writer):
    rows = generate(writer, seed=0)
    assert len(rows) == 48
    for row in rows:
        question = row["question"]
        assert not repeated_concepts(question), question
        assert not re.search(r"\{|\}|\s[?.,]|\b(\w+) \1\b", question), question
        said = [concept_named(n).say.lower() for n in row["concepts"]]
        assert any(s in question.lower() for s in said), question
        assert not any(f" {w} " in f" {question.lower()} " for w in ("step,", "decision", "agree"))
    for n in range(24):
        own = [r["question"] for r in rows if r["segment"] == n]
        assert len(set(own)) == 2


def backstory_parts(writer: OfflineQuestionWriter, question: str, persona: str) -> tuple[str, str]:
    """(opener used or '', the question's own shape with its concept masked)."""
    story = writer.backstories
    used = [o for o in story.backstory_openers if question.startswith(o.replace("{persona}", persona))]
    opener = max(used, key=len, default="")
    rest = question[len(opener.replace("{persona}", persona)):].strip()
    for detail in story.backstory_details:
        rest = rest.removeprefix(detail).strip()
    return opener, rest


def shape_of(line: str, concepts: list[str]) -> str:
    for name in sorted(concepts, key=len, reverse=True):
        line = re.sub(re.escape(concept_named(name).say), "<c>", line, flags=re.IGNORECASE)
    return line


def test_no_connector_or_shape_carries_the_data(writer):
    rows = generate(writer, seed=0)
    openers, shapes = Counter(), Counter()
    for row in rows:
        opener, rest = backstory_parts(writer, row["question"], row["slot"].persona)
        openers[opener or "(none)"] += 1
        shapes[shape_of(rest, row["concepts"])] += 1
    with_story = {o: n for o, n in openers.items() if o != "(none)"}
    assert with_story and max(with_story.values()) <= 0.2 * len(rows), openers.most_common(3)
    assert len(with_story) >= 6
    assert max(shapes.values()) <= 0.2 * len(rows) and len(shapes) >= 30, shapes.most_common(3)


def test_offline_questions_are_deterministic_for_a_seed(writer):
    first, again, other = generate(writer, 0), generate(writer, 0), generate(writer, 1)
    assert [r["question"] for r in first] == [r["question"] for r in again]
    changed = sum(a["question"] != b["question"] for a, b in zip(first, other))
    assert changed >= len(first) // 2


def test_every_question_type_has_shapes_for_every_kind(writer):
    samples = {"feeling": "shame", "pattern": "fawning", "topic": "boundaries",
               "practice": "grounding", "idea": "nervous system"}
    assert set(samples) == set(KINDS)
    for expert in writer.prompts.experts.experts:
        for kind, name in samples.items():
            concept = concept_named(name)
            generic = set(writer.shapes(expert.name, "no_such_type", concept, None))
            assert generic, (expert.name, kind)
            for question_type in expert.question_types:
                lines = writer.shapes(expert.name, question_type, concept, None)
                assert lines and not set(lines) & generic, (expert.name, question_type, kind)
                assert all("?" in line and concept.say in line for line in lines)


def judge_authenticity(question: str, answer: str, expert: str = "educational") -> tuple[int, str]:
    policy = SafetyPolicy.from_config(SafetyConfig())
    checks = PairChecks([formatting(question, answer, ChecksConfig())], policy.screen(question, answer))
    experts = load_experts(REPO / "configs/experts.yaml")
    return authenticity(question, answer, experts.get(expert), checks)


ANSWER = ("Shame says I am bad, guilt says I did something bad. Guilt moves you toward repair, and "
          "healing starts when you can tell the two apart without punishing yourself.")


@pytest.mark.parametrize("question, problem, worst", [
    ("How do I deal with step, step by step?", "everyday word where a concept should be", 2),
    ("What is the difference between guilt and self? I keep mixing them up.", "'between guilt and self'", 2),
    ("What does healing from healing actually look like for me, day to day?", "same concept twice", 2),
    ("Why does feelings make me feel like I'm not good enough?", "singular verb before a plural", 2),
    ("Why do I keep falling into agree with my partner?", "'into agree'", 2),
    ("Why does {c} keep hurting me ?", "slot marker", 2),
    ("I had a setback this week, is that bad for me?", "names no concept", 4),
    ("Why does my loneliness make me feel so alone with people?", "appear in the answer", 4),
])
def test_offline_judge_penalises_template_faults(question, problem, worst):
    good, why_good = judge_authenticity("What is the difference between guilt and shame? I mix them up.", ANSWER)
    assert good == 5 and why_good.endswith("none")
    score, rationale = judge_authenticity(question, ANSWER)
    assert score <= worst and problem in rationale and rationale.startswith(PREFIX)


def test_every_lexicon_concept_fills_every_shape_without_a_fault(writer):
    """Typed slots keep every fill grammatical; only a concept the shape itself names twice is
    left, and the writer never uses such a line (see the repeated-concept test above)."""
    lexicon = load_lexicon()
    lines = 0
    for expert in writer.prompts.experts.experts:
        for question_type in [*expert.question_types, "no_such_type"]:
            for concept in lexicon.entries.values():
                for line in writer.shapes(expert.name, question_type, concept, None):
                    faults = [f for f in template_faults(line, lexicon) if "same concept" not in f]
                    assert not faults, (line, faults)
                    lines += 1
    assert lines > 5000
