"""General rules that make any chat model's template and tokenizer trainer-true.

Each rule reads only the tokenizer and its chat template, so a new model family needs no code;
the Qwen3 and Llama 3 behaviour synth has always had are cases of these rules:

- Reasoning off. A template that reads a reasoning switch (`enable_thinking`, `thinking`) is
  rendered with it off: the answers are transcript text with no reasoning, and serving sends
  the same switch. Qwen3 -> {"enable_thinking": false}; Llama 3, Mistral, Gemma -> {}.
- One BOS. Renders are tokenized without added special tokens, so the template decides: when it
  writes the BOS (Llama 3, Mistral, Gemma) the ids hold it once (never the double BOS that
  `tokenizer(rendered)` gives Llama 3); when the tokenizer would add a BOS to plain text but the
  template does not write it (Phi-3-like templates), it is prepended once; a model without a
  BOS (Qwen) gets none.
- A system prompt only where the template takes one: a template that rejects the system role
  (Gemma 2's raises "System role not supported") stops the export with a message naming
  `export.system_prompt: false`.
- A pad token for the trainer when the tokenizer has none: a special token named as a pad
  (Llama 3.1's <|finetune_right_pad_id|>), else Llama 3's slot of that token (id 128004, named
  reserved in Llama 3.0 vocabularies), else the first reserved token, else EOS.
"""

from __future__ import annotations

import re
from typing import Any

REASONING_SWITCHES = ("enable_thinking", "thinking")
_BLOCKS = re.compile(r"\{[{%](.*?)[%}]\}", re.DOTALL)
LLAMA3_PAD_ID = 128004


def reasoning_off(chat_template: str) -> dict[str, bool]:
    """Template kwargs that turn reasoning off: each switch the template reads, set False."""
    code = " ".join(_BLOCKS.findall(chat_template or ""))
    return {name: False for name in REASONING_SWITCHES
            if re.search(rf"(?<![\w.]){name}\b", code)}


def bos_prefix(tokenizer: Any, template_kwargs: dict[str, Any]) -> tuple[int, ...]:
    """The BOS id to put before each rendered conversation's ids: (bos,) or ()."""
    bos_id, bos = tokenizer.bos_token_id, tokenizer.bos_token
    if bos_id is None or not bos:
        return ()
    adds_bos = tokenizer("x")["input_ids"][:1] == [bos_id]
    sample = tokenizer.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False,
                                           add_generation_prompt=True, **template_kwargs)
    return (int(bos_id),) if adds_bos and not sample.startswith(bos) else ()


def pad_token_for(tokenizer: Any) -> str | None:
    """The pad token the trainer should set, when the tokenizer has none."""
    if tokenizer.pad_token:
        return None
    added = tokenizer.get_added_vocab()
    named = sorted((i, s) for s, i in added.items() if "pad" in s.lower())
    if named:
        return named[0][1]
    if "<|eot_id|>" in added and len(tokenizer) > LLAMA3_PAD_ID:
        slot = tokenizer.convert_ids_to_tokens(LLAMA3_PAD_ID)
        if slot and "reserved" in slot:
            return slot
    reserved = sorted((i, s) for s, i in added.items() if "reserved" in s)
    return reserved[0][1] if reserved else tokenizer.eos_token


def system_role_supported(tokenizer: Any, template_kwargs: dict[str, Any]) -> bool:
    """Whether the chat template renders a system message (some raise on one)."""
    from jinja2.exceptions import TemplateError

    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "x"}]
    try:
        tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True,
                                      **template_kwargs)
    except TemplateError:
        return False
    return True
