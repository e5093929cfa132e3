"""A verdict is evidence or it is a failure (issue 17 item 3): rationales that say something,
each criterion its own, quotes found in the pair; re-asked, then a judge failure, never ok. The
schema's string bounds fit the judge's max_tokens (counted with the real Qwen3 tokenizer)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from judge_fixture import ANSWERS, CRITERIA, ScriptedJudge, judge_config, make_pairs, marker_of, setup_run
from pydantic import ValidationError

from synth.errors import ConfigError
from synth.files import read_jsonl
from synth.judge.stage import run_judge
from synth.judge.verdict import MAX_FLAGS, string_bounds, validation_context, verdict_model
from synth.records import JudgedPair
from synth.text import embeddings

REPO = Path(__file__).resolve().parents[2]
PAIR = make_pairs(4)[3]  # practical: "... Then stop. If they push, repeat the sentence once, ..."


def verdict(**changes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {c: {"score": 4, "rationale": f"The question fits the {c} anchor well."}
                           for c in CRITERIA}
    out["safety_flags"] = []
    out.update(changes)
    return out


def check(answer: dict[str, Any], max_tokens: int = 512) -> None:
    model = verdict_model(CRITERIA, max_tokens)
    model.model_validate_json(json.dumps(answer), context=validation_context(PAIR))


def test_a_reasoned_verdict_with_a_quote_from_the_pair_passes() -> None:
    flag = {"kind": "other", "quote": "if THEY push,  repeat the sentence once"}  # case, spacing, comma
    check(verdict(safety_flags=[flag]))
    check(verdict(safety_flags=[{"kind": "other", "quote": "I care about you, and I am not able"}]))
    check(verdict(voice={"score": 4, "rationale": "Authentic."},  # one word that says something
                  style_fit={"score": 4, "rationale": "贴合该专家的风格和语气"}))  # an unspaced script


@pytest.mark.parametrize(("answer", "says"), [
    (verdict(alignment={"score": 1, "rationale": '","'}), "alignment.rationale '\",\"' says nothing"),
    (verdict(voice={"score": 1, "rationale": "..."}), "voice.rationale '...' says nothing"),
    (verdict(safety={"score": 1, "rationale": "ok"}), "safety.rationale 'ok' says nothing"),
    (verdict(voice={"score": 4, "rationale": "The question fits the Alignment anchor well!"}),
     "voice.rationale copies alignment.rationale"),
    (verdict(safety_flags=[{"kind": "self_harm", "quote": "I want to die I want to die I want to die"}]),
     "safety_flags[0].quote 'I want to die"),
])
def test_noise_is_not_a_verdict(answer: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check(answer)
    assert says in str(caught.value)


def test_sized_from_max_tokens_a_full_verdict_fits() -> None:
    """Every string at its bound and MAX_FLAGS flags, in English prose: the Qwen3 tokenizer
    counts no more than max_tokens."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(REPO / "assets/tokenizers/qwen3/tokenizer.json"))
    prose = " ".join(ANSWERS.values()) * 16  # our own English prose, as rationales and quotes are
    for max_tokens in (256, 320, 512, 600, 1024):
        rationale, quote = string_bounds(len(CRITERIA), max_tokens)
        full = {c: {"score": 5, "rationale": prose[i * 997: i * 997 + rationale]} for i, c in enumerate(CRITERIA)}
        full["safety_flags"] = [{"kind": "medical_advice", "quote": prose[9000 + i * 701: 9000 + i * 701 + quote]}
                                for i in range(MAX_FLAGS)]
        model = verdict_model(CRITERIA, max_tokens)
        text = model.model_validate(full).model_dump_json(indent=None)  # schema-valid at its bounds
        assert len(tokenizer.encode(text).ids) <= max_tokens, max_tokens
    assert string_bounds(5, 512)[0] >= 120  # room for a sentence or two


def test_too_few_tokens_for_a_verdict_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        string_bounds(5, 120)
    assert "judge.max_tokens 120" in str(caught.value)


@pytest.fixture
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTH_TEST_KEY", "sk-test-verdict")
    monkeypatch.setattr(embeddings, "available", lambda: False)  # fast: similarity recorded as skipped


def _noise_then(good_after: int) -> Any:
    """A judge whose first `good_after` answers to each pair are SmolLM2-style noise."""
    scripted, seen = ScriptedJudge(), {}

    def answer(body: dict[str, Any]) -> Any:
        i = marker_of(body["messages"][1]["content"])
        seen[i] = seen.get(i, 0) + 1
        good = scripted(body)
        if seen[i] > good_after:
            return good
        return {c: {"score": 1, "rationale": '","'} for c in good if c != "safety_flags"} | {
            "safety_flags": [{"kind": "self_harm", "quote": "and and and and and and and and"}]}
    answer.seen = seen  # type: ignore[attr-defined]
    return answer


@pytest.mark.usefixtures("_env")
def test_noise_is_re_asked_then_a_judge_failure(tmp_path, fake_llm) -> None:
    pairs = make_pairs(2)
    fake_llm.answer = _noise_then(good_after=1)  # the re-ask (with the error) fixes it
    config = judge_config(tmp_path / "run", fake_llm.url)
    run = setup_run(config, pairs)
    run_judge(config, run, pairs, progress=False)
    judged = list(read_jsonl(run.judged, JudgedPair))
    assert all(j.judgment.status == "ok" and j.judgment.safety_flags == [] for j in judged)
    reasks = [b for b in fake_llm.requests if len(b["messages"]) > 2]
    assert reasks and "says nothing" in reasks[0]["messages"][-1]["content"]

    fake_llm.answer = _noise_then(good_after=99)  # never better: failed, never ok, not cached
    config = judge_config(tmp_path / "run2", fake_llm.url)
    run = setup_run(config, pairs)
    run_judge(config, run, pairs, progress=False)
    judged = list(read_jsonl(run.judged, JudgedPair))
    assert all(j.judgment.status == "failed" and not j.accepted for j in judged)
    assert all(j.reasons == ["judge_failed:validation_failed"] for j in judged)
