"""Dataset cards (README.md with Hugging Face YAML front matter) for the export folders.

The front matter's `configs` let `datasets.load_dataset(<expert folder>, "trl")` (or
"litgpt", "messages") load a format with its train/validation splits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from synth.experts import Expert
from synth.records import ExportManifest

# one builder per folder: `datasets` infers it from the most common extension, so the packed
# parquet files are loaded with load_dataset("parquet", data_files=...) instead
FORMATS = (("trl", "jsonl"), ("litgpt", "jsonl"), ("messages", "jsonl"))


def _front_matter(
    counts: dict[str, int], formats: Sequence[tuple[str, str]], tags: list[str]
) -> str:
    configs = []
    for name, ext in formats:
        files = [{"split": "train", "path": f"{name}/train.{ext}"}]
        if counts.get("val"):
            files.append({"split": "validation", "path": f"{name}/val.{ext}"})
        configs.append({"config_name": name, "data_files": files})
    meta = {
        "language": ["en"],
        "task_categories": ["text-generation"],
        "tags": tags,
        "pretty_name": None,
        "configs": configs,
    }
    return "---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n"


def _lines(items: dict[str, Any]) -> str:
    return "\n".join(f"| {k} | {v} |" for k, v in items.items())


def expert_card(
    expert: Expert,
    counts: dict[str, int],
    figures: dict[str, float],
    manifest: ExportManifest,
    gpu: str,
) -> str:
    head = _front_matter(counts, FORMATS, ["synthetic", "lora", "style-expert", "mental-health"])
    head = head.replace("pretty_name: null", f"pretty_name: synth {expert.name} expert")
    patterns = "\n".join(f"- {p}" for p in expert.response_patterns)
    boundaries = "\n".join(f"- {b}" for b in expert.boundaries)
    kwargs = (
        ' plus `"chat_template_kwargs": {"enable_thinking": false}`'
        if manifest.base_model == "qwen3"
        else ""
    )
    return f"""{head}
# synth dataset: {expert.name} expert

{expert.description}

Each example pairs a question (written by synth's generator, then judged and curated) with a
verbatim transcript segment of one speaker as the answer. One LoRA adapter per expert on
`{manifest.base_model_id}`; all four share the base model.

## Style
{patterns}

## Boundaries (the judge and curation enforce them)
{boundaries}

## Figures
| figure | value |
|---|---|
{
        _lines(
            {
                "train examples": counts["train"],
                "val examples": counts["val"],
                "tokens (train+val)": counts["tokens"],
                "trained (assistant) tokens": counts["trained_tokens"],
                **{k: v for k, v in figures.items()},
            }
        )
    }

Tokens are counted with the target tokenizer (`{manifest.tokenizer}`, hash `{
        manifest.tokenizer_hash
    }`)
on the chat-template rendering, max_seq_len {manifest.max_seq_len}.

## Files (same ids and split in every format; train and val share no source video)
- `trl/`: TRL prompt/completion JSONL (`prompt`, `completion` message lists){kwargs}. TRL
  trains on the completion only.
- `litgpt/`: LitGPT JSON (`instruction`, `input`, `output`, optional `sys_prompt`); use
  `litgpt.data.JSON` with `json_path: {expert.name}/litgpt`, `mask_prompt: true`, a chat
  prompt style, and no `val_split_fraction` (the folder fixes the split).
- `messages/`: `{{"messages": [...]}}` for Axolotl `type: chat_template`.
- `packed/`: parquet rows of at most max_seq_len tokens packed best-fit decreasing:
  `input_ids`, `labels` (-100 outside the assistant answer and its end token),
  `position_ids` restarting at 0 per example, `example_ids`, `seq_lengths`. Feed a row as one
  padding-free sequence with flash attention; in a hand-written loop set
  `model.config.use_cache = False` so examples do not attend to each other.
- `config/trl.yaml` (PEFT LoraConfig + TRL SFTConfig) and `config/litgpt_lora.yaml`
  (`litgpt finetune_lora --config`), sized for one {
        gpu
    } by synth's memory model (`synth/memory.py`).

## Load
```python
from datasets import load_dataset
ds = load_dataset("path/to/export/{expert.name}", "trl")  # or "litgpt", "messages"
packed = load_dataset("parquet", data_files={{"train": "path/to/export/{
        expert.name
    }/packed/train.parquet"}})
```

## Limitations
Mental-health content from one educator; not clinical advice. Crisis content was kept only when
it points to help. Synthetic questions may not cover how real people ask.
"""


def router_card(counts: dict[str, int], experts: list[str]) -> str:
    head = _front_matter(counts, [("", "jsonl")], ["synthetic", "router", "text-classification"])
    head = head.replace("path: /", "path: ").replace("config_name: ''", "config_name: default")
    return f"""{head}
# synth router dataset

`{{"text": question, "label": expert, "id"}}` rows: the same questions and split as the expert
datasets. Labels: {", ".join(experts)}. `lora_modules.txt` has one `expert=<adapter path>` line per
expert for vLLM's `--lora-modules`; a request's `model` is the label the router predicts.

| split | rows |
|---|---|
| train | {counts.get("train", 0)} |
| val | {counts.get("val", 0)} |
"""


def export_readme(experts: Sequence[Expert], manifest: ExportManifest) -> str:
    rows = "\n".join(
        f"| {e.name} | {manifest.experts[e.name]['train']} | {manifest.experts[e.name]['val']} | "
        f"{manifest.experts[e.name]['tokens']} | {e.training.lora_r} | {e.training.learning_rate} |"
        for e in experts
    )
    warnings = "\n".join(f"- {w}" for w in manifest.warnings) or "- none"
    thinking = (
        ' and `"chat_template_kwargs": {"enable_thinking": false}`'
        if manifest.base_model == "qwen3"
        else ""
    )
    litgpt_bos = (
        "\n  LitGPT adds a second `<|begin_of_text|>` when the checkpoint folder name starts with"
        " `Llama-3` or `Meta-Llama-3` (a double BOS); name the folder otherwise."
        if manifest.base_model == "llama3_1"
        else ""
    )
    return f"""# synth export

Base model `{manifest.base_model_id}`, tokenizer hash `{manifest.tokenizer_hash}`, max_seq_len
{manifest.max_seq_len}. `manifest.json` lists every file with its sha256 and the hashes of the
inputs (curated pairs, config, experts, prompts, rubric, tokenizer).

| expert | train | val | tokens | LoRA r | learning rate |
|---|---|---|---|---|---|
{rows}

## Train (from this folder)
- TRL + PEFT: `<expert>/config/trl.yaml` (`lora` -> `peft.LoraConfig`, `sft` -> `trl.SFTConfig`,
  `data_files` -> `datasets.load_dataset("json", ...)`).
- LitGPT: `litgpt finetune_lora --config <expert>/config/litgpt_lora.yaml`.{litgpt_bos}

## Serve
`./serve.sh` starts one vLLM server with the four adapters (`--enable-lora`, `--lora-modules`)
on the training chat template (`chat_template.jinja`). Send `"model": "<expert>"`{thinking}.
The router dataset is in `router/`.

## Warnings
{warnings}

Pairs not exported (with reasons): `excluded.jsonl` ({sum(manifest.excluded.values())}).
"""
