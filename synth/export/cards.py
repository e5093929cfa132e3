"""Dataset cards (README.md with Hugging Face YAML front matter) for the export folders.

The front matter's `configs` let `datasets.load_dataset(<expert folder>, "trl")` (or
"litgpt", "messages") load a format with its train/validation splits.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

from synth.experts import Expert
from synth.records import ExportManifest
from synth.templates import PromptTemplate, load_template

# one builder per folder: `datasets` infers it from the most common extension, so the packed
# parquet files are loaded with load_dataset("parquet", data_files=...) instead
FORMATS = (("trl", "jsonl"), ("litgpt", "jsonl"), ("messages", "jsonl"))
CARDS = Path(__file__).resolve().parents[2] / "templates" / "cards"


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


def _template(name: str) -> PromptTemplate:
    return load_template(CARDS / f"{name}.md.j2")


def _thinking_kwargs(manifest: ExportManifest, lead: str) -> str:
    """The request kwargs that turn reasoning off (Qwen3's thinking), for the cards' instructions."""
    if not manifest.template_kwargs:
        return ""
    kwargs = ", ".join(f'"{k}": {str(v).lower()}' for k, v in manifest.template_kwargs.items())
    return f'{lead}`"chat_template_kwargs": {{{kwargs}}}`'


def expert_card(expert: Expert, counts: dict[str, int], figures: dict[str, float],
                manifest: ExportManifest, gpu: str) -> str:
    head = _front_matter(counts, FORMATS, ["synthetic", "lora", "style-expert", "mental-health"])
    head = head.replace("pretty_name: null", f"pretty_name: synth {expert.name} expert")
    table = {"train examples": counts["train"], "val examples": counts["val"],
             "tokens (train+val)": counts["tokens"], "trained (assistant) tokens": counts["trained_tokens"],
             **figures}
    return _template("expert").render(front_matter=head, expert=expert, manifest=manifest, figures=table,
                                      gpu=gpu, thinking_kwargs=_thinking_kwargs(manifest, " plus "))


def router_card(counts: dict[str, int], experts: list[str]) -> str:
    head = _front_matter(counts, [("", "jsonl")], ["synthetic", "router", "text-classification"])
    head = head.replace("path: /", "path: ").replace("config_name: ''", "config_name: default")
    return _template("router").render(front_matter=head, counts=counts, experts=experts)


def export_readme(experts: Sequence[Expert], manifest: ExportManifest) -> str:
    return _template("export_readme").render(experts=experts, manifest=manifest,
                                             thinking_kwargs=_thinking_kwargs(manifest, " and "))
