"""Small pure pieces of the LLM seam: secrets scrubbing, Retry-After, classification, hashing."""
from __future__ import annotations

import email.utils
import time

import httpx
import openai

from synth.llm.cache import request_hash
from synth.llm.retry import RetryPolicy, classify, retry_after_seconds
from synth.llm.services import Redactor


def _status_error(code: int, message: str, headers: dict[str, str] | None = None) -> openai.APIStatusError:
    request = httpx.Request("POST", "http://x/v1/chat/completions")
    response = httpx.Response(code, headers=headers or {}, request=request,
                              json={"error": {"message": message}})
    return openai.APIStatusError(message, response=response, body={"error": {"message": message}})


def test_redactor_removes_the_key_and_key_like_tokens(monkeypatch):
    monkeypatch.setenv("MY_KEY", "abcd-secret-value-123")
    redact = Redactor()
    redact.add_env("MY_KEY")
    text = redact("bad key abcd-secret-value-123; header Bearer xyz987; other sk-proj-AbCdEf123456789")
    assert "abcd-secret-value-123" not in text and "xyz987" not in text and "sk-proj" not in text


def test_retry_after_seconds_and_http_date():
    assert retry_after_seconds("2.5") == 2.5 and retry_after_seconds(None) is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= retry_after_seconds(later) <= 31
    assert retry_after_seconds("soon") is None


def test_backoff_grows_with_jitter_and_honours_retry_after():
    policy = RetryPolicy(base_s=0.5, max_s=4)
    delays = [policy.delay(n) for n in range(6)]
    assert 0.25 <= delays[0] <= 0.5 and all(d <= 4 for d in delays) and delays[4] >= 2
    assert policy.delay(0, retry_after=7) == 7


def test_classification_of_status_codes():
    assert classify(_status_error(429, "slow", {"retry-after": "3"})).retry_after == 3
    assert classify(_status_error(503, "busy")).retryable
    assert classify(_status_error(401, "bad key")).fatal
    assert classify(_status_error(404, "no model")).fatal
    too_long = classify(_status_error(400, "This model's maximum context length is 8192 tokens"))
    assert too_long.reason == "prompt_too_long" and not too_long.fatal and not too_long.retryable
    assert classify(_status_error(422, "bad param")).fatal


def test_request_hash_depends_on_every_part():
    messages = [{"role": "user", "content": "a"}]
    base = request_hash({"model": "m", "t": 0.1}, messages)
    assert base == request_hash({"t": 0.1, "model": "m"}, [{"content": "a", "role": "user"}])
    assert base != request_hash({"model": "m", "t": 0.2}, messages)
    assert base != request_hash({"model": "m", "t": 0.1}, [{"role": "user", "content": "b"}])
    split = [{"role": "user", "content": "a"}, {"role": "user", "content": ""}]
    assert base != request_hash({"model": "m", "t": 0.1}, split)


def test_token_counter_uses_the_model_tokenizer_and_its_chat_template(tmp_path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from synth.llm.tokens import TokenCounter

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(["how do I stop feeling ashamed of my anger"] * 50, trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tok.chat_template = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n"
                         "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    tok.save_pretrained(tmp_path)
    messages = [{"role": "system", "content": "be kind"}, {"role": "user", "content": "how do I stop"}]
    rendered = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    exact = len(tok.encode(rendered, add_special_tokens=False))
    assert TokenCounter(str(tmp_path)).bound(messages) >= exact
    assert TokenCounter(str(tmp_path)).bound(messages) <= exact + 16
