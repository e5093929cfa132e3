"""prompt_injection: segment text that talks to the model instead of to a listener.

A segment becomes the "answer" of a generation prompt, so text inside it reaches the question
writer, the judge and, through export, the trained model. Text that addresses an assistant or
carries the markup of a chat template is not a speaker's teaching; ingest flags it and, by
default, quarantines it with the reason prompt_injection and the matched words.

Four kinds, each a pattern a spoken transcript does not produce:
- template tokens: `<|im_start|>`, `<|eot_id|>`, `[INST]`, `<<SYS>>`, `<s>`, `<start_of_turn>` ...
  (any `<|word|>` token);
- role or instruction headers: a "### Instruction" / "### New task for the assistant" header
  (anywhere: a transcript has no markdown), a line opening with "System:" / "Assistant:" / "User:";
- instructions to the model: ignore / disregard / forget / override the previous instructions,
  "you are now an unrestricted AI", "dear AI", "to the assistant reading this", "whoever is
  generating questions from this", "any automated system reading this", "respond only with",
  "new instructions:", "jailbreak", "developer mode" ("whoever is reading this" is how a
  speaker addresses an audience: not flagged);
- a JSON fragment shaped like the generator's answer or a chat message: {"question": ...},
  {"questions": [...]}, {"question_type": ...}, {"role": "system" ...}.

It reads the text as exported (before cleaning, which collapses lines). The cue lists were
written before bench/bench_injection.py's set, which measures them; false flags on real
English text are measured there too (see the README, "Gates on real data").
"""
from __future__ import annotations

import re

from synth.text.prefilter import Alternatives

FLAG = "prompt_injection"
# each an Alternatives (synth.text.prefilter): (alternative, words it needs) searched only when they are there
_TEMPLATE = Alternatives([(  # every alternative opens with "<" or "["
    r"<\|[A-Za-z_][\w.-]{0,30}\|>|\[/?INST\]|<</?SYS>>|</?s>|<(?:start|end)_of_turn>|</?think>"
    r"|</?tool_call>|<\|?(?:system|user|assistant)\|?>|\[(?:SYSTEM|USER|ASSISTANT)\]", [("<", "[")])])
_HEADER = Alternatives((
    (r"#{2,}\s*(?:new\s+|updated\s+|real\s+|actual\s+)?(?:instructions?|task|system(?:\s+prompt)?"
     r"|prompt|response|input|output|assistant|user|human)\b", [("##",)]),
    (r"^\s*\*\*\s*(?:new\s+)?(?:instructions?|task|system|prompt|response|assistant|user)\b[^\n]{0,60}$",
     [("**",)]),
    (r"^\s*(?:system|assistant|user|human|ai|chatgpt|llm)\s*:\s*\S", [(":",)]),
), re.IGNORECASE | re.MULTILINE)
_MODEL = ("ai", "assistant", "chatbot", "gpt", "llm", "model", "system")
_ADDRESS = Alternatives((
    (r"\b(?:ignore|disregard|forget|override|bypass|skip)\s+(?:all\s+|any\s+|the\s+|your\s+|my\s+|these\s+)*"
     r"(?:previous|prior|above|earlier|preceding|original|system|given|initial|former|other)\s+"
     r"(?:instructions?|prompts?|rules|directions|guidelines|tasks?|context|messages?|text|constraints)",
     [("ignore", "disregard", "forget", "override", "bypass", "skip")]),
    (r"\b(?:ignore|disregard|forget)\s+(?:everything|all)\s+(?:above|before|you\s+(?:were|have\s+been)\s+told)",
     [("ignore", "disregard", "forget")]),
    (r"\byou\s+are\s+(?:now\s+)?(?:an?\s+)?(?:unrestricted|uncensored|unfiltered|jailbroken|DAN\b|evil)",
     [("you",), ("are",), ("unrestricted", "uncensored", "unfiltered", "jailbroken", "dan", "evil")]),
    (r"\b(?:dear|hey|hello|attention|note\s+to\s+(?:the\s+)?)\s*(?:AI|assistant|chatbot|ChatGPT|GPT|LLM"
     r"|language\s+model|model)\b\s*[,:!]", [("dear", "hey", "hello", "attention", "note"), _MODEL, (",", ":", "!")]),
    (r"\bto\s+(?:the|any)\s+(?:AI|assistant|LLM|language\s+model|model|chatbot|system)\s+"
     r"(?:reading|processing|generating|parsing|summari[sz]ing|answering)",
     [("to",), _MODEL, ("reading", "processing", "generating", "parsing", "summari", "answering")]),
    (r"\b(?:whoever|anyone|any\s+(?:automated\s+)?(?:system|model|program|tool|bot|AI))\s+(?:is\s+|that\s+is\s+)?"
     r"(?:generating|processing|parsing|summari[sz]ing)\s+(?:questions\s+from\s+)?(?:this|the)\s+"
     r"(?:text|transcript|passage|segment|document|content)",
     [("whoever", "anyone", "any"), ("generating", "processing", "parsing", "summari")]),
    (r"\bany\s+automated\s+(?:system|model|program|tool|bot)\s+reading\s+this", [("automated",), ("reading",)]),
    (r"\b(?:as|if\s+you\s+are)\s+an?\s+(?:AI|LLM|language\s+model|AI\s+assistant)\s*,\s*(?:you\s+)?"
     r"(?:must|should|will|need)", [("ai", "llm", "model"), (",",), ("must", "should", "will", "need")]),
    (r"\b(?:respond|reply|answer|output)\s+(?:only\s+)?with\s+(?:only\s+)?(?:the\s+)?(?:following|this\s+JSON"
     r"|JSON|exactly)", [("respond", "reply", "answer", "output"), ("with",), ("following", "json", "exactly")]),
    (r"\bnew\s+(?:instructions?|task|system\s+prompt)\s*:", [("new",), ("instruction", "task", "prompt"), (":",)]),
    (r"\b(?:jailbreak|developer\s+mode|do\s+anything\s+now|system\s+prompt)\b",
     [("jailbreak", "developer", "anything", "prompt")]),
), re.IGNORECASE)
_JSON = Alternatives([(
    r"\{\s*\"(?:questions?|question_type|answer|response|instruction|prompt|completion|output)\"\s*:"
    r"|\{\s*\"role\"\s*:\s*\"(?:system|user|assistant)\"", [("{",)])])
KINDS = (("template tokens", _TEMPLATE), ("a role or instruction header", _HEADER),
         ("an instruction to the model", _ADDRESS), ("a JSON fragment shaped like a model's answer", _JSON))


def find_injection(text: str) -> str | None:
    """The message naming what makes `text` talk to the model, or None."""
    for kind, pattern in KINDS:
        match = pattern.search(text)
        if match:
            words = " ".join(match.group(0).split())[:60]
            return f"the text talks to the model, not a listener: {kind} ({words!r})"
    return None
