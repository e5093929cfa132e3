"""The generator's schema is sized from generator.max_tokens (issue 17): K questions and their
concepts at their bounds fit max_tokens, counted with the real Qwen3 tokenizer, so a schema-valid
answer is not cut off; a max_tokens too small for K questions is a config error naming the key.
The offline writer (no tokens) keeps the plain bounds."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from synth.errors import ConfigError
from synth.generate.prompts import MAX_CONCEPTS, question_chars, question_set_model

REPO = Path(__file__).resolve().parents[2]
TYPES = ("coping_skills", "actionable_advice")
# questions in everyday words, as the prompts ask for (our own text)
WORDS = ("I keep freezing when my boss raises his voice in meetings and then I spend the whole "
         "evening replaying it, so how do I calm down in the moment and stop going over it later when "
         "I get home and my partner asks what is wrong with me again tonight? ") * 6


@pytest.mark.parametrize(("k", "max_tokens"), [(2, 320), (3, 512), (2, 512), (5, 1024), (1, 256)])
def test_a_full_question_set_fits_max_tokens(k: int, max_tokens: int) -> None:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(REPO / "assets/tokenizers/qwen3/tokenizer.json"))
    question, concept = question_chars(k, max_tokens)
    model = question_set_model(k, TYPES, max_tokens)
    full = model(concepts=["emotional regulation and self-soothing!!"[:concept]] * MAX_CONCEPTS,
                 questions=[{"question_type": "actionable_advice", "question": WORDS[i: i + question].strip()}
                            for i in range(k)])
    assert len(tokenizer.encode(json.dumps(full.model_dump())).ids) <= max_tokens
    assert question >= 300 or max_tokens < 400  # room for the prompt's "long" questions (35-70 words)


def test_the_schema_says_the_bounds_and_unsized_keeps_700() -> None:
    sized = question_set_model(2, TYPES, 320).model_json_schema()
    plain = question_set_model(2, TYPES).model_json_schema()
    assert sized["$defs"]["TypedQuestion"]["properties"]["question"]["maxLength"] == question_chars(2, 320)[0] < 700
    assert plain["$defs"]["TypedQuestion"]["properties"]["question"]["maxLength"] == 700


def test_too_few_tokens_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        question_chars(3, 200)
    assert "generator.max_tokens 200" in str(caught.value)
