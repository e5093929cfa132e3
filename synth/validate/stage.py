"""The validate stage: the exported datasets load into the real trainers and keep the voice.

Per expert, from the run's export/ folder:
  voice            every exported answer (TRL completion, LitGPT output, messages when exported)
                   equals the cleaned text of its source segment, via the pair's segment_id
  ids_match        every format holds the same ids per split; no id on both sides of the split
  trl_lora_step    `synth train`'s code, one step from the packed parquet with config/trl.yaml
                   on a random tiny model of the base architecture (synth.validate.trl)
  trl_jsonl_step   `datasets` loads the TRL JSONL; TRL tokenizes, packs and trains one step
  adapter_servable the saved adapter is plain LoRA that vLLM can serve
  litgpt_load      LitGPT's own JSON data module + target tokenizer tokenizes every row and
                   draws a batch, in synth's LitGPT venv (synth.validate.litgpt_venv, scripts/litgpt_probe.py),
                   with the exported config/litgpt_lora.yaml's prompt style and LoRA
  litgpt_lora_step two steps of `litgpt finetune_lora` on a random tiny model (when
                   validate.run_lora_step)
Results: reports/validation.json (ValidationReport) and reports/validation.html.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from rich.console import Console

from synth.config import RunConfig
from synth.errors import InputError, ValidationFailed
from synth.export.chat import tokenizer_source
from synth.export.manifest import load_manifest
from synth.export.stage import base_model_of
from synth.files import atomic_write_text, read_jsonl
from synth.generate.stale import segment_texts
from synth.records import (
    CheckStatus,
    CuratedPair,
    Pair,
    ValidationCheck,
    ValidationReport,
)
from synth.rundir import RunDir
from synth.train import TrainOptions, train_expert
from synth.train.launch import training_extra_missing
from synth.train.model import tokenizer_with_pad
from synth.train.trainer import load_train_config
from synth.validate.litgpt import litgpt_checks
from synth.validate.report import write_validation_html
from synth.validate.trl import jsonl_step, packed_step

SPLITS = ("train", "val")
MAX_SHOWN = 3
Log = Callable[[str], None]

__all__ = ["run_validate", "training_extra_missing"]


class _Row(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    expert: str


class TrlRow(_Row):
    prompt: list[dict[str, str]]
    completion: list[dict[str, str]]

    @property
    def answer(self) -> str:
        return self.completion[-1]["content"] if self.completion else ""


class LitgptRow(_Row):
    instruction: str
    output: str

    @property
    def answer(self) -> str:
        return self.output


class MessagesRow(_Row):
    messages: list[dict[str, str]]

    @property
    def answer(self) -> str:
        return self.messages[-1]["content"] if self.messages else ""


FORMATS: dict[str, type[_Row]] = {"trl": TrlRow, "litgpt": LitgptRow, "messages": MessagesRow}
REQUIRED_FORMATS = ("trl", "litgpt")  # messages is optional in the export


def formats_of(run: RunDir, expert: str) -> list[str]:
    return [f for f in FORMATS if f in REQUIRED_FORMATS or run.path("export", expert, f).exists()]


def read_rows(path: Path, model: type[_Row]) -> list[_Row]:
    """Rows of one export file; a bad line raises InputError naming file, line and field."""
    if not path.exists():
        raise InputError("export file not found (run synth export first)", file=str(path))
    return list(read_jsonl(path, model, torn_tail_ok=False))


def _check(expert: str, name: str, status: CheckStatus, detail: str, **figures: float) -> ValidationCheck:
    return ValidationCheck(expert=expert, check=name, status=status, detail=detail, figures=figures)


def pair_source_texts(run: RunDir) -> dict[str, str]:
    """pair_id -> cleaned text of its source segment (through the pair's segment_id)."""
    texts = segment_texts(run) or {}
    pairs: dict[str, str] = {p.pair_id: p.segment_id for p in read_jsonl(run.pairs, Pair)}
    for split in SPLITS:
        for curated in read_jsonl(run.curated(split), CuratedPair):
            pairs[curated.pair.pair_id] = curated.pair.segment_id
    return {pair_id: texts[seg] for pair_id, seg in pairs.items() if seg in texts}


def voice_check(run: RunDir, expert: str, sources: dict[str, str]) -> ValidationCheck:
    problems: list[str] = []
    checked = 0
    for fmt in formats_of(run, expert):
        for split in SPLITS:
            path = run.path("export", expert, fmt, f"{split}.jsonl")
            for row in read_rows(path, FORMATS[fmt]):
                checked += 1
                source = sources.get(row.id)
                if source is None:
                    problems.append(f"{fmt}/{split} id {row.id}: no source segment found")
                elif row.answer != source:
                    problems.append(f"{fmt}/{split} id {row.id}: answer differs from its segment")
                if row.expert != expert:
                    problems.append(f"{fmt}/{split} id {row.id}: expert is {row.expert!r}")
    if problems:
        shown = "; ".join(problems[:MAX_SHOWN])
        return _check(expert, "voice", "fail", f"{len(problems)} problem(s): {shown}", rows=checked)
    return _check(expert, "voice", "pass", f"{checked} exported answers equal their segments",
                  rows=checked)


def ids_check(run: RunDir, expert: str) -> ValidationCheck:
    formats = formats_of(run, expert)
    ids = {(fmt, split): [r.id for r in read_rows(run.path("export", expert, fmt, f"{split}.jsonl"), FORMATS[fmt])]
           for fmt in formats for split in SPLITS}
    problems = [f"{split}: {fmt} ids differ from trl" for split in SPLITS for fmt in formats
                if sorted(ids[fmt, split]) != sorted(ids["trl", split])]
    problems += [f"{fmt}/{split}: duplicate ids" for (fmt, split), got in ids.items()
                 if len(set(got)) != len(got)]
    leaked = set(ids["trl", "train"]) & set(ids["trl", "val"])
    if leaked:
        problems.append(f"{len(leaked)} id(s) in both train and val, e.g. {min(leaked)}")
    figures = {"train": len(ids["trl", "train"]), "val": len(ids["trl", "val"])}
    if problems:
        return _check(expert, "ids_match", "fail", "; ".join(problems), **figures)
    return _check(expert, "ids_match", "pass", f"same ids and split in {', '.join(formats)}", **figures)


def tokenizer_dir(config: RunConfig) -> str:
    """The target tokenizer as export uses it: export.tokenizer, else the base model's."""
    return tokenizer_source(config.export.tokenizer, base_model_of(config), config.resolve)


TRL_CHECKS = ("trl_lora_step", "trl_jsonl_step", "adapter_servable")


def trl_checks(config: RunConfig, run: RunDir, experts: list[str], log: Log) -> list[ValidationCheck]:
    missing = training_extra_missing()
    if missing:
        hint = f"train extra not installed ({missing} missing): pip install -e '.[train]' torch==2.13.0"
        return [_check(e, name, "skipped", hint) for e in experts for name in TRL_CHECKS]
    model = base_model_of(config)
    checks = []
    for expert in experts:
        log(f"TRL: one packed LoRA step (synth train) and one JSONL step for {expert}")
        work = run.path("validate", "trl", expert)
        options = TrainOptions(tiny=True, max_steps=1, adapter_dir=work / "adapter",
                               work_dir=work / "packed", report=False, evaluate=False)
        one_step = partial(train_expert, config, run, expert, options, lambda _: None)
        checks += packed_step(one_step, expert, work / "adapter")
        file = load_train_config(run.path("export", expert, "config", "trl.yaml"))
        pad = file.sft.get("pad_token")
        tokenizer = tokenizer_with_pad(tokenizer_dir(config), pad if isinstance(pad, str) else None)
        checks.append(jsonl_step(file, run.path("export", expert, "trl"), work / "jsonl", model,
                                 tokenizer))
    return checks


def _stderr_log(message: str) -> None:
    Console(stderr=True).print(f"[dim]validate: {message}[/]", highlight=False)


def run_validate(config: RunConfig, run: RunDir, log: Log | None = None) -> ValidationReport:
    """Run every check on the run's export; write reports/validation.{json,html}."""
    log = log or _stderr_log
    manifest = load_manifest(run, ValidationFailed)
    if manifest.base_model != config.export.base_model:  # an alias, hub id or folder
        raise ValidationFailed(f"the export was made for {manifest.base_model} but export.base_model is "
                               f"{config.export.base_model}: run `synth export` again")
    experts = sorted(manifest.experts)
    sources = pair_source_texts(run)
    checks = [check for e in experts for check in (voice_check(run, e, sources), ids_check(run, e))]
    checks += trl_checks(config, run, experts, log)
    checks += litgpt_checks(config, run, experts, manifest, log)
    report = ValidationReport(run_dir=str(run.root), base_model=config.export.base_model,
                              tokenizer=tokenizer_dir(config), checks=checks)
    atomic_write_text(run.report("validation.json"), report.model_dump_json(indent=2))
    write_validation_html(run.report("validation.html"), report)
    return report
