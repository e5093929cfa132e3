"""Real model outputs (tests/judge/data/smollm2_captured.json: SmolLM2-135M on llama-server, see
its note) against the evidence rules (issue 17 items 3 and 7). As the issue found, SmolLM2 is no
judge: every captured verdict is noise (a digit loop cut off at max_tokens, rationales copied
across criteria, flag quotes that are not in the pair), and none may pass as a verdict. Its
generated questions: the sound ones pass the degenerate-question check (a copied phrase is a
score), the 'lifes_lifes_lifes' loop fails it."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from judge_fixture import CRITERIA, make_pair
from pydantic import ValidationError

from synth.judge.degenerate import degenerate_question, plan_ngrams
from synth.judge.verdict import validation_context, verdict_model

HERE = Path(__file__).resolve().parent
CAPTURED = json.loads((HERE / "data/smollm2_captured.json").read_text(encoding="utf-8"))
REPO = HERE.parents[1]


@pytest.mark.parametrize("item", CAPTURED["judge"], ids=lambda item: f"pair{item['pair']}")
def test_no_captured_smollm2_verdict_is_evidence(item: dict) -> None:
    model = verdict_model(CRITERIA, item["max_tokens"])
    with pytest.raises(ValidationError) as caught:
        model.model_validate_json(item["content"], context=validation_context(make_pair(item["pair"])))
    if item["finish_reason"] == "length":  # cut off: not even JSON
        assert "json_invalid" in str(caught.value)
    else:
        assert "copies" in str(caught.value) and "is not in the question or the answer" in str(caught.value)


def _questions(content: str) -> list[str]:
    return re.findall(r'"question"\s*:\s*"((?:[^"\\]|\\.)*)', content)  # also from a cut-off answer


def test_captured_questions_through_the_degenerate_check() -> None:
    from generate_fixture import make_segments

    answers = {s.segment_id: s.text for s in make_segments(4)}
    plan = plan_ngrams(str(REPO / "prompts"))
    verdicts = {(item["segment"], q): degenerate_question(q, answers[item["segment"]], plan)
                for item in CAPTURED["generate"] for q in _questions(item["content"])}
    failed = [q for (_, q), r in verdicts.items() if not r.passed]
    assert len(failed) == 1 and "lifes_lifes_lifes" in failed[0]
    assert verdicts[("seg-0003", failed[0])].reason.startswith("repeated_phrase:")
    sound = verdicts[("seg-0001", "How can I tell the difference between guilt and shame?")]
    assert sound.passed and 0 < sound.score < 1  # copies "the difference between guilt and shame": a score
