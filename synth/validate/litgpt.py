"""LitGPT gate, host side: prepare the spec, run synth/_litgpt_check.py in the LitGPT venv.

The venv is created once and reused (synth.validate.litgpt_venv). When it cannot be created (no
network), every LitGPT check fails with a message that says how to make it by hand.
"""
from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from synth.config import RunConfig
from synth.errors import ValidationFailed
from synth.files import atomic_write_text
from synth.records import ValidationCheck
from synth.rundir import RunDir
from synth.validate.litgpt_venv import CHECK_SCRIPT, ensure_venv
from synth.validate.trl import LoraSpec

PROMPT_STYLES = {"qwen3": "qwen3", "llama3_1": "llama3"}
MODEL_NAMES = {"qwen3": "Qwen3-0.6B", "llama3_1": "Llama-3.1-8B"}
CHECKS = ("litgpt_load", "litgpt_lora_step")
TIMEOUT_S = 3600


def _all(experts: list[str], names: tuple[str, ...], status: str, detail: str) -> list[ValidationCheck]:
    return [ValidationCheck(expert=e, check=n, status=status, detail=detail)  # type: ignore[arg-type]
            for e in experts for n in names]


def _local_tokenizer(config: RunConfig) -> Path | None:
    if not config.export.tokenizer:
        return None
    folder = config.resolve(config.export.tokenizer)
    return folder.absolute() if (folder / "tokenizer.json").exists() else None


def build_spec(config: RunConfig, run: RunDir, experts: list[str], lora: dict[str, LoraSpec],
               tokenizer: Path) -> dict:
    base = config.export.base_model
    return {
        "tokenizer_dir": str(tokenizer), "prompt_style": PROMPT_STYLES[base],
        "model_name": MODEL_NAMES[base], "max_seq_length": config.export.max_seq_len,
        "experts": {e: str(run.path("export", e, "litgpt").absolute()) for e in experts},
        "lora_step": config.validate_.run_lora_step,
        "work_dir": str(run.path("validate", "litgpt").absolute()),
        "lora": {e: {"r": s.r, "alpha": s.alpha, "dropout": s.dropout} for e, s in lora.items()},
    }


def litgpt_checks(config: RunConfig, run: RunDir, experts: list[str], lora: dict[str, LoraSpec],
                  log: Callable[[str], None]) -> list[ValidationCheck]:
    names = CHECKS if config.validate_.run_lora_step else CHECKS[:1]
    tokenizer = _local_tokenizer(config)
    if tokenizer is None:
        return _all(experts, names, "fail", "LitGPT needs a local tokenizer dir with tokenizer.json "
                    f"(export.tokenizer is {config.export.tokenizer!r})")
    try:
        python = ensure_venv(config.resolve(config.validate_.litgpt_venv), log)
    except ValidationFailed as exc:
        return _all(experts, names, "fail", str(exc))
    log(f"LitGPT: loading {len(experts)} expert export(s) with litgpt.data.JSON")
    return _run_script(python, build_spec(config, run, experts, lora, tokenizer), run, experts, names)


def _run_script(python: Path, spec: dict, run: RunDir, experts: list[str],
                names: tuple[str, ...]) -> list[ValidationCheck]:
    work = run.ensure("validate", "litgpt")
    spec_path = atomic_write_text(work / "spec.json", json.dumps(spec, indent=2))
    result_path = work / "result.json"
    result_path.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    try:
        done = subprocess.run([str(python), str(CHECK_SCRIPT), str(spec_path), str(result_path)],
                              capture_output=True, text=True, env=env, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return _all(experts, names, "fail", f"LitGPT check ran over {TIMEOUT_S} s")
    atomic_write_text(work / "check.log", done.stdout + done.stderr)
    if done.returncode != 0 or not result_path.exists():
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        return _all(experts, names, "fail", f"LitGPT check exit {done.returncode}: {tail} "
                    f"(log: {work / 'check.log'})")
    results = json.loads(result_path.read_text(encoding="utf-8"))
    return [ValidationCheck(expert=e, check=n, **results[e][n])
            for e in experts for n in names if n in results.get(e, {})]
