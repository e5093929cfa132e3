"""The export stage: curated pairs -> per-expert datasets in every trainer format.

Layout (export/, relative paths; the same ids and split in every format):
  manifest.json  README.md  serve.sh  chat_template.jinja  excluded.jsonl
  <expert>/trl/{train,val}.jsonl        TRL prompt/completion (+ chat_template_kwargs for Qwen3)
  <expert>/litgpt/{train,val}.jsonl     LitGPT JSON: instruction, input, output, id, expert, sys_prompt
  <expert>/messages/{train,val}.jsonl   Axolotl `chat_template` / OpenAI messages
  <expert>/packed/{train,val}.parquet   input_ids, labels, position_ids (+ example_ids, seq_lengths)
  <expert>/config/{trl.yaml,litgpt_lora.yaml}   training configs (synth.trainconfig)
  <expert>/README.md                    dataset card
  router/{train,val}.jsonl  router/lora_modules.txt  router/README.md
A pair the tokenizer cannot take (over max_seq_len under the `drop` policy, special-token
text) is in excluded.jsonl with its reason and is in no format. The folder is built aside and
swapped in whole, so a failed export never leaves a half-written one.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from synth.cards import expert_card, export_readme, router_card
from synth.chat import ChatRenderer, ChatTokenizer, chat_messages, load_chat_tokenizer, tokenizer_source
from synth.config import RunConfig, dump_config
from synth.errors import ExportError
from synth.experts import Expert, ExpertSet, load_experts
from synth.pack import ChatExample, Encoded, Progress, encode_examples, pack_rows, write_packed_parquet
from synth.records import CuratedPair, ExcludedPair, ExportManifest
from synth.rundir import RunDir
from synth.templates import content_hash
from synth.trainconfig import DataStats, base_model_id, litgpt_config, pad_token_for, serve_script, trl_config

SPLITS = ("train", "val")


def chat_examples(curated: Sequence[CuratedPair], experts: ExpertSet, system_prompt: bool) -> list[ChatExample]:
    known = set(experts.names)
    unknown = sorted({c.pair.expert for c in curated} - known)
    if unknown:
        raise ExportError(f"curated pairs name expert(s) not in the experts file: {', '.join(unknown)}")
    systems = {e.name: (e.system_prompt.strip() if system_prompt else None) for e in experts.experts}
    return [ChatExample(c.pair.pair_id, c.pair.expert, c.split, systems[c.pair.expert], c.pair.question,
                        c.pair.answer) for c in curated]


def trl_row(example: ChatExample, chat: ChatTokenizer) -> dict[str, Any]:
    messages = chat_messages(example.system, example.question, example.answer)
    row: dict[str, Any] = {"id": example.id, "expert": example.expert, "prompt": messages[:-1],
                           "completion": messages[-1:]}
    if chat.template_kwargs:
        row["chat_template_kwargs"] = dict(chat.template_kwargs)
    return row


def litgpt_row(example: ChatExample) -> dict[str, Any]:
    row = {"instruction": example.question, "input": "", "output": example.answer,
           "id": example.id, "expert": example.expert}
    if example.system:
        row["sys_prompt"] = example.system
    return row


def messages_row(example: ChatExample) -> dict[str, Any]:
    return {"id": example.id, "expert": example.expert,
            "messages": chat_messages(example.system, example.question, example.answer)}


def write_rows(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(row, ensure_ascii=False) + "\n" for row in rows]
    path.write_text("".join(lines), encoding="utf-8")
    return len(lines)


def token_stats(encoded: Sequence[Encoded]) -> dict[str, float]:
    if not encoded:
        return {"examples": 0}
    lengths = np.array([e.input_ids.size for e in encoded])
    return {"examples": len(encoded), "tokens": int(lengths.sum()), "mean_tokens": round(float(lengths.mean()), 1),
            "p50_tokens": float(np.percentile(lengths, 50)), "p95_tokens": float(np.percentile(lengths, 95)),
            "max_tokens": int(lengths.max()), "trained_tokens": int(sum(e.trained_tokens for e in encoded)),
            "truncated_examples": sum(e.truncated > 0 for e in encoded)}


def _export_expert(folder: Path, expert: Expert, kept: list[Encoded], chat: ChatTokenizer,
                   config: RunConfig) -> tuple[dict[str, int], dict[str, float]]:
    cfg = config.export
    counts: dict[str, int] = {}
    figures: dict[str, float] = {}
    for split in SPLITS:
        part = [e for e in kept if e.example.split == split]
        examples = [e.example for e in part]
        counts[split] = write_rows(folder / "trl" / f"{split}.jsonl", (trl_row(x, chat) for x in examples))
        write_rows(folder / "litgpt" / f"{split}.jsonl", map(litgpt_row, examples))
        write_rows(folder / "messages" / f"{split}.jsonl", map(messages_row, examples))
        packed = pack_rows(part, cfg.max_seq_len)
        write_packed_parquet(folder / "packed" / f"{split}.parquet", packed)
        counts[f"packed_rows_{split}"] = packed.rows
        figures[f"utilisation_{split}"] = round(packed.utilisation, 4)
        figures.update({f"{k}_{split}": v for k, v in token_stats(part).items()})
    stats = DataStats(counts["train"], counts["val"], figures.get("mean_tokens_train", 1.0),
                      int(max(figures.get("max_tokens_train", 1), figures.get("max_tokens_val", 1))),
                      counts["packed_rows_train"])
    _write_configs(folder / "config", expert, stats, chat, config)
    counts["tokens"] = int(figures.get("tokens_train", 0) + figures.get("tokens_val", 0))
    counts["trained_tokens"] = int(figures.get("trained_tokens_train", 0) + figures.get("trained_tokens_val", 0))
    return counts, figures


def _write_configs(folder: Path, expert: Expert, stats: DataStats, chat: ChatTokenizer, config: RunConfig) -> None:
    cfg = config.export
    pad = pad_token_for(chat.tokenizer, cfg.base_model)
    documents = {"trl.yaml": trl_config(expert, stats, cfg, pad, config.curate.seed),
                 "litgpt_lora.yaml": litgpt_config(expert, stats, cfg, config.curate.seed)}
    folder.mkdir(parents=True, exist_ok=True)
    for name, document in documents.items():
        header = f"# {expert.name}: generated by `synth export`; paths are relative to the export folder\n"
        (folder / name).write_text(header + yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def _write_router(folder: Path, kept: Sequence[Encoded], experts: Sequence[Expert], adapters_dir: str) -> dict[str, int]:
    counts = {}
    for split in SPLITS:
        rows = ({"text": e.example.question, "label": e.example.expert, "id": e.example.id}
                for e in kept if e.example.split == split)
        counts[split] = write_rows(folder / f"{split}.jsonl", rows)
    lines = "".join(f"{e.name}={adapters_dir}/{e.name}\n" for e in experts)
    (folder / "lora_modules.txt").write_text(lines, encoding="utf-8")
    (folder / "README.md").write_text(router_card(counts, [e.name for e in experts]), encoding="utf-8")
    return counts


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_hashes(config: RunConfig, curated: Sequence[CuratedPair], chat: ChatTokenizer) -> dict[str, str]:
    hashes = {"curated_pairs": content_hash("\n".join(c.model_dump_json() for c in curated)),
              "config": content_hash(dump_config(config)), "tokenizer": chat.hash}
    named = {"experts": config.resolve(config.experts), "rubric": config.resolve(config.judge.rubric)}
    prompts = config.resolve(config.generator.prompts_dir)
    if prompts.is_dir():
        named.update({f"prompt:{p.name}": p for p in sorted(prompts.iterdir()) if p.is_file()})
    hashes.update({key: content_hash(path.read_bytes()) for key, path in named.items() if path.is_file()})
    pair_prompts = sorted({c.pair.prompt_hash for c in curated})
    hashes["pair_prompt_hashes"] = ",".join(pair_prompts)
    return hashes


def _stage_dir(run: RunDir) -> Path:
    staging = run.path(".export.staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def _swap_in(run: RunDir, staging: Path) -> Path:
    target, old = run.path("export"), run.path(".export.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def run_export(config: RunConfig, run: RunDir, curated: list[CuratedPair],
               progress: Progress | None = None) -> ExportManifest:
    """Write every format, configs, cards, serving command and the manifest; return the manifest."""
    cfg = config.export
    experts = load_experts(config.resolve(config.experts))
    if not curated:
        raise ExportError("no curated pairs to export (run synth curate first, or check curated/excluded.jsonl)")
    chat = load_chat_tokenizer(tokenizer_source(cfg.tokenizer, cfg.base_model, config.resolve))
    encoded = encode_examples(ChatRenderer(chat), chat_examples(curated, experts, cfg.system_prompt),
                              cfg.max_seq_len, cfg.overlength, progress)
    staging = _stage_dir(run)
    counts, figures, warnings = {}, {}, []
    for expert in experts.experts:
        kept = [e for e in encoded.kept if e.example.expert == expert.name]
        if not kept:
            warnings.append(f"{expert.name}: no pairs to export; no dataset, configs or adapter for it")
            continue
        counts[expert.name], figures[expert.name] = _export_expert(staging / expert.name, expert, kept, chat, config)
        if not counts[expert.name]["val"]:
            warnings.append(f"{expert.name}: empty val split")
    exported = [e for e in experts.experts if e.name in counts]
    _write_router(staging / "router", encoded.kept, exported, cfg.adapters_dir)
    excluded = [ExcludedPair(pair_id=d.example.id, expert=d.example.expert, reason=d.reason, detail=d.detail)
                for d in encoded.dropped]
    (staging / "excluded.jsonl").write_text("".join(e.model_dump_json() + "\n" for e in excluded), encoding="utf-8")
    (staging / "chat_template.jinja").write_text(chat.chat_template, encoding="utf-8")
    (staging / "serve.sh").write_text(serve_script(exported, cfg), encoding="utf-8")
    (staging / "serve.sh").chmod(0o755)
    manifest = ExportManifest(
        base_model=cfg.base_model, tokenizer_hash=chat.hash, max_seq_len=cfg.max_seq_len, experts=counts,
        files={}, input_hashes=input_hashes(config, curated, chat), base_model_id=base_model_id(cfg),
        tokenizer=chat.source, token_stats=figures, warnings=warnings,
        excluded=dict(Counter(e.reason for e in excluded)))
    for expert in exported:
        (staging / expert.name / "README.md").write_text(
            expert_card(expert, counts[expert.name], figures[expert.name], manifest, cfg.gpu), encoding="utf-8")
    (staging / "README.md").write_text(export_readme(exported, manifest), encoding="utf-8")
    manifest.files = {p.relative_to(staging).as_posix(): file_sha256(p)
                      for p in sorted(staging.rglob("*")) if p.is_file()}
    (staging / "manifest.json").write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    _swap_in(run, staging)
    return manifest
