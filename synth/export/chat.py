"""The target model's tokenizer and chat template: load, render, tokenize, mask.

Loss masks do not rely on `{% generation %}` markers (the Qwen3 and Llama 3 templates lack
them). As TRL does, the prompt (system + user, `add_generation_prompt=True`) and the full
conversation are rendered with the same kwargs and tokenized with `add_special_tokens=False`
(the template decides the special tokens; synth.export.chatrules adds a BOS only where the
tokenizer expects one the template does not write); the tokens after their longest common
prefix are the assistant's. The assistant span ends at its end token (`<|im_end|>`, `<|eot_id|>`): template
text after it (Qwen's trailing newline) stays in `input_ids` but is not trained on, so the
unmasked labels decode to exactly the answer plus its end token.

Rendering speed: the Jinja template is rendered once per system prompt with sentinel contents
and split into a skeleton; a pair whose question and answer are "plain" (no surrounding
whitespace, none of `< > { } |`, which is where templates branch on content) is rendered by
concatenation. A sample of fast renders is checked against the exact render; on any mismatch
the renderer switches to exact rendering for good. Other pairs are always rendered exactly.
Prompt token ids of such pairs come from the conversation's ids (added special tokens split
the text, so everything before the prompt's tail anchor is shared), checked the same way.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synth.errors import ExportError
from synth.export.basemodel import BaseModelSource
from synth.export.chatrules import bos_prefix, reasoning_off

_Q, _A = "\ue000", "\ue001"  # private-use sentinels for question and answer
_NOT_PLAIN = re.compile("[<>{}|\ue000\ue001]")
VERIFY_EVERY = 97  # one fast render in this many is checked against the exact render


@dataclass
class ChatTokenizer:
    """A loaded target tokenizer with what rendering and masking need."""

    tokenizer: Any  # transformers PreTrainedTokenizerFast
    source: str
    hash: str
    eos_id: int
    template_kwargs: dict[str, Any] = field(default_factory=dict)
    special_texts: tuple[str, ...] = ()
    bos_prefix: tuple[int, ...] = ()  # put before every rendered conversation (chatrules)

    def __post_init__(self) -> None:
        self._special_starts = {s[0] for s in self.special_texts if s}
        self._special_re = (
            re.compile("|".join(map(re.escape, self.special_texts))) if self.special_texts else None
        )

    @property
    def chat_template(self) -> str:
        return self.tokenizer.chat_template

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        """Token ids of many texts at once (the fast backend, no special tokens added)."""
        encodings = self.tokenizer.backend_tokenizer.encode_batch_fast(
            texts, add_special_tokens=False
        )
        return [e.ids for e in encodings]

    def encode_rendered(self, texts: list[str]) -> list[list[int]]:
        """Token ids of rendered conversations (prompts or full), with the BOS rule applied."""
        prefix = list(self.bos_prefix)
        return [prefix + ids for ids in self.encode_batch(texts)] if prefix else self.encode_batch(texts)

    def special_text_in(self, text: str) -> str | None:
        """The first special-token string inside a text (it would tokenize as that token)."""
        if self._special_re is None or not any(c in text for c in self._special_starts):
            return None
        match = self._special_re.search(text)
        return match.group(0) if match else None


def load_chat_tokenizer(source: str | Path) -> ChatTokenizer:
    """Load a tokenizer from a local dir or a hub id; ExportError says what is missing."""
    from synth.tokenizer import load_tokenizer

    tokenizer = load_tokenizer(source, error=ExportError)
    if not getattr(tokenizer, "is_fast", False):
        raise ExportError(f"tokenizer {source!r} is not a fast tokenizer (needs tokenizer.json)")
    if not tokenizer.chat_template:
        raise ExportError(f"tokenizer {source!r} has no chat_template")
    if tokenizer.eos_token_id is None:
        raise ExportError(f"tokenizer {source!r} has no eos token")
    kwargs = reasoning_off(tokenizer.chat_template)
    return ChatTokenizer(
        tokenizer=tokenizer,
        source=str(source),
        hash=tokenizer_hash(tokenizer),
        eos_id=int(tokenizer.eos_token_id),
        template_kwargs=dict(kwargs),
        special_texts=tuple(sorted(tokenizer.get_added_vocab(), key=len, reverse=True)),
        bos_prefix=bos_prefix(tokenizer, kwargs),
    )


def tokenizer_source(export_tokenizer: str | None, model: BaseModelSource, resolve: Any) -> str:
    """export.tokenizer as a local dir when it exists, else as a hub id; unset: the model's."""
    if not export_tokenizer:
        return model.tokenizer_source()
    local = Path(resolve(export_tokenizer))
    if local.exists():
        return str(local)
    if local.is_absolute() or export_tokenizer.startswith(".") or export_tokenizer.count("/") > 1:
        raise ExportError(f"export.tokenizer: folder {export_tokenizer!r} not found")
    return export_tokenizer  # a hub id (org/name)


def tokenizer_hash(tokenizer: Any) -> str:
    """sha256 over the tokenizer model, its special tokens and its chat template."""
    digest = hashlib.sha256(tokenizer.backend_tokenizer.to_str().encode("utf-8"))
    digest.update(repr(sorted(tokenizer.special_tokens_map.items())).encode("utf-8"))
    digest.update((tokenizer.chat_template or "").encode("utf-8"))
    return digest.hexdigest()[:16]


def chat_messages(
    system: str | None, question: str, answer: str | None = None
) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": question})
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return messages


@dataclass
class _Skeleton:
    prompt: tuple[str, str]  # prompt = prompt[0] + question + prompt[1]
    full: tuple[str, str, str]  # full = full[0] + question + full[1] + answer + full[2]
    anchor: str | None  # the special token prompt[1] starts with (splits tokenization there)


@dataclass(frozen=True)
class Rendered:
    prompt: str
    full: str
    skeleton: _Skeleton | None = None  # set when rendered from a skeleton with an anchor


class ChatRenderer:
    """Renders (system, question, answer) into prompt and full-conversation strings."""

    def __init__(self, chat: ChatTokenizer):
        self.chat = chat
        self.fast_enabled = True
        self.fast_count = self.exact_count = self.verified = 0
        self.shortcut_enabled = True
        self._skeletons: dict[str | None, _Skeleton | None] = {}
        self._tail_ids: dict[str, list[int]] = {}

    def render_exact(self, messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
        return self.chat.tokenizer.apply_chat_template(
            messages,
            tokenize=False,
            add_generation_prompt=add_generation_prompt,
            **self.chat.template_kwargs,
        )

    def render(self, system: str | None, question: str, answer: str) -> tuple[str, str]:
        """(prompt, full) exactly as the chat template renders them."""
        rendered = self.render_pair(system, question, answer)
        return rendered.prompt, rendered.full

    def render_pair(self, system: str | None, question: str, answer: str) -> Rendered:
        skeleton = self._skeleton(system) if self.fast_enabled else None
        if skeleton is None or not _plain(question) or not _plain(answer):
            self.exact_count += 1
            return Rendered(*self._exact_pair(system, question, answer))
        self.fast_count += 1
        prompt = skeleton.prompt[0] + question + skeleton.prompt[1]
        full = skeleton.full[0] + question + skeleton.full[1] + answer + skeleton.full[2]
        if self.fast_count % VERIFY_EVERY == 1 and (prompt, full) != self._verify(
            system, question, answer
        ):
            self.fast_enabled = False
            return Rendered(*self._exact_pair(system, question, answer))
        return Rendered(prompt, full, skeleton if skeleton.anchor else None)

    def prompt_ids(self, rendered: list[Rendered], full_ids: list[list[int]]) -> list[list[int]]:
        """Token ids of each prompt. A skeleton prompt is the full conversation's ids up to the
        anchor special token (added tokens split the text, so nothing before it can change)
        plus the anchor tail's own ids; one in VERIFY_EVERY is checked against tokenizing the
        prompt itself, and any mismatch turns the shortcut off for good."""
        direct = [
            i
            for i, r in enumerate(rendered)
            if r.skeleton is None or not self.shortcut_enabled or i % VERIFY_EVERY == 0
        ]
        out: list[list[int] | None] = [None] * len(rendered)
        for i, ids in zip(direct, self.chat.encode_rendered([rendered[i].prompt for i in direct])):
            out[i] = ids
        for i, item in enumerate(rendered):
            if item.skeleton is None or not self.shortcut_enabled:
                continue
            shortcut = self._prompt_from_full(item, full_ids[i])
            if out[i] is not None and out[i] != shortcut:
                self.shortcut_enabled = False
                return self.chat.encode_rendered([r.prompt for r in rendered])
            out[i] = shortcut
        return out  # type: ignore[return-value]

    def _prompt_from_full(self, item: Rendered, full: list[int]) -> list[int]:
        skeleton = item.skeleton
        assert skeleton is not None and skeleton.anchor is not None
        tail = skeleton.prompt[1]
        if tail not in self._tail_ids:
            self._tail_ids[tail] = self.chat.encode_batch([tail])[0]
        tail_ids = self._tail_ids[tail]
        index = -1
        for _ in range(item.prompt[: len(item.prompt) - len(tail)].count(skeleton.anchor) + 1):
            index = full.index(tail_ids[0], index + 1)
        return full[:index] + tail_ids

    def _verify(self, system: str | None, question: str, answer: str) -> tuple[str, str]:
        self.verified += 1
        return self._exact_pair(system, question, answer)

    def _exact_pair(self, system: str | None, question: str, answer: str) -> tuple[str, str]:
        prompt = self.render_exact(chat_messages(system, question), True)
        full = self.render_exact(chat_messages(system, question, answer), False)
        return prompt, full

    def _skeleton(self, system: str | None) -> _Skeleton | None:
        if system not in self._skeletons:
            self._skeletons[system] = self._build_skeleton(system)
        return self._skeletons[system]

    def _build_skeleton(self, system: str | None) -> _Skeleton | None:
        """Split sentinel renders; None (exact rendering only) when the shape is unusual."""
        if system is not None and not _plain(system):
            return None
        prompt, full = self._exact_pair(system, _Q, _A)
        if prompt.count(_Q) != 1 or full.count(_Q) != 1 or full.count(_A) != 1 or _A in prompt:
            return None
        p0, p1 = prompt.split(_Q)
        f0, rest = full.split(_Q)
        f1, f2 = rest.split(_A)
        if p0 != f0 or not f1.startswith(p1):
            return None
        anchor = next((s for s in self.chat.special_texts if p1.startswith(s)), None)
        return _Skeleton((p0, p1), (f0, f1, f2), anchor)


def _plain(text: str) -> bool:
    """No surrounding whitespace and none of the characters templates branch on."""
    return not (_NOT_PLAIN.search(text) or text[:1].isspace() or text[-1:].isspace())


def common_prefix_len(a: list[int], b: list[int]) -> int:
    """Length of the longest common prefix of two id lists."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    low, high = 0, n  # binary search on prefix equality (slices compare in C)
    while low < high:
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def assistant_span(prompt_ids: list[int], full_ids: list[int], eos_id: int) -> tuple[int, int]:
    """[start, end) of the trained tokens: after the common prefix, through the end token."""
    start = common_prefix_len(prompt_ids, full_ids)
    try:
        end = full_ids.index(eos_id, start) + 1
    except ValueError:
        end = len(full_ids)
    return start, end
