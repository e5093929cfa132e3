"""Row builders of the export formats (one ChatExample -> one row), and the JSONL writer.

TRL prompt/completion (+ chat_template_kwargs for Qwen3), LitGPT JSON (instruction/input/output,
optional sys_prompt; never a `prompt` key: LitGPT passes extra keys to prompt_style.apply(prompt=)),
messages (Axolotl `chat_template`), router ({text, label}). See reference.md section 3.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from synth.errors import ExportError
from synth.experts import ExpertSet
from synth.export.chat import ChatTokenizer, chat_messages
from synth.export.pack import ChatExample
from synth.records import CuratedPair


def chat_examples(
    curated: Sequence[CuratedPair], experts: ExpertSet, system_prompt: bool
) -> list[ChatExample]:
    unknown = sorted({c.pair.expert for c in curated} - set(experts.names))
    if unknown:
        raise ExportError(
            f"curated pairs name expert(s) not in the experts file: {', '.join(unknown)}"
        )
    systems = {e.name: e.system_prompt.strip() if system_prompt else None for e in experts.experts}
    return [
        ChatExample(
            c.pair.pair_id,
            c.pair.expert,
            c.split,
            systems[c.pair.expert],
            c.pair.question,
            c.pair.answer,
            c.pair.generation,
        )
        for c in curated
    ]


def trl_row(example: ChatExample, chat: ChatTokenizer) -> dict[str, Any]:
    messages = chat_messages(example.system, example.question, example.answer)
    row: dict[str, Any] = {
        "id": example.id,
        "expert": example.expert,
        "prompt": messages[:-1],
        "completion": messages[-1:],
    }
    if chat.template_kwargs:
        row["chat_template_kwargs"] = dict(chat.template_kwargs)
    return _with_generation(row, example)


def _with_generation(row: dict[str, Any], example: ChatExample) -> dict[str, Any]:
    """The pair's generation set on the row (extra keys are harmless to TRL and LitGPT)."""
    if example.generation:
        row["generation"] = example.generation
    return row


def litgpt_row(example: ChatExample) -> dict[str, Any]:
    row = {
        "instruction": example.question,
        "input": "",
        "output": example.answer,
        "id": example.id,
        "expert": example.expert,
    }
    if example.system:
        row["sys_prompt"] = example.system
    return _with_generation(row, example)


def messages_row(example: ChatExample) -> dict[str, Any]:
    row = {
        "id": example.id,
        "expert": example.expert,
        "messages": chat_messages(example.system, example.question, example.answer),
    }
    return _with_generation(row, example)


def router_row(example: ChatExample) -> dict[str, Any]:
    return _with_generation({"text": example.question, "label": example.expert, "id": example.id},
                            example)


def write_rows(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(row, ensure_ascii=False) + "\n" for row in rows]
    path.write_text("".join(lines), encoding="utf-8")
    return len(lines)


def write_formats(
    folder: Path, examples: list[ChatExample], split: str, chat: ChatTokenizer
) -> int:
    """<folder>/{trl,litgpt,messages}/<split>.jsonl, the same rows in each; the row count."""
    count = write_rows(folder / "trl" / f"{split}.jsonl", (trl_row(x, chat) for x in examples))
    write_rows(folder / "litgpt" / f"{split}.jsonl", map(litgpt_row, examples))
    write_rows(folder / "messages" / f"{split}.jsonl", map(messages_row, examples))
    return count
