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
from synth.export.chat import tokenizer_source
from synth.export.stage import base_model_of
from synth.files import atomic_write_text
from synth.records import ExportManifest, ValidationCheck
from synth.rundir import RunDir
from synth.validate.litgpt_venv import CHECK_SCRIPT, ensure_venv

CHECKS = ("litgpt_load", "litgpt_lora_step")
TIMEOUT_S = 3600


def _all(experts: list[str], names: tuple[str, ...], status: str, detail: str) -> list[ValidationCheck]:
    return [ValidationCheck(expert=e, check=n, status=status, detail=detail)  # type: ignore[arg-type]
            for e in experts for n in names]


def _local_tokenizer(config: RunConfig) -> Path | None:
    folder = Path(tokenizer_source(config.export.tokenizer, base_model_of(config), config.resolve))
    return folder.absolute() if (folder / "tokenizer.json").exists() else None


def _exported(run: RunDir, expert: str) -> dict:
    """The exported config/litgpt_lora.yaml (what LitGPT users run)."""
    import yaml

    return yaml.safe_load(run.path("export", expert, "config", "litgpt_lora.yaml").read_text(encoding="utf-8"))


def build_spec(config: RunConfig, run: RunDir, experts: list[str], manifest: ExportManifest,
               tokenizer: Path) -> dict:
    exported = {e: _exported(run, e) for e in experts}
    first = exported[experts[0]]
    return {
        "tokenizer_dir": str(tokenizer), "prompt_style": first["data"]["init_args"]["prompt_style"],
        "model_name": manifest.litgpt["repo_id"], "max_seq_length": config.export.max_seq_len,
        "experts": {e: str(run.path("export", e, "litgpt").absolute()) for e in experts},
        "lora_step": config.validate_.run_lora_step,
        "work_dir": str(run.path("validate", "litgpt").absolute()),
        "lora": {e: {"r": c["lora_r"], "alpha": c["lora_alpha"], "dropout": c["lora_dropout"]}
                 for e, c in exported.items()},
    }


def litgpt_checks(config: RunConfig, run: RunDir, experts: list[str], manifest: ExportManifest,
                  log: Callable[[str], None]) -> list[ValidationCheck]:
    names = CHECKS if config.validate_.run_lora_step else CHECKS[:1]
    if not manifest.litgpt:
        return _all(experts, names, "skipped", f"no LitGPT config: LitGPT has no prompt style for "
                    f"{manifest.base_model_id} (train with synth train)")
    tokenizer = _local_tokenizer(config)
    if tokenizer is None:
        return _all(experts, names, "fail", "LitGPT needs a local tokenizer dir with tokenizer.json "
                    f"(export.tokenizer is {config.export.tokenizer!r})")
    try:
        python = ensure_venv(config.resolve(config.validate_.litgpt_venv), log)
    except ValidationFailed as exc:
        return _all(experts, names, "fail", str(exc))
    log(f"LitGPT: loading {len(experts)} expert export(s) with litgpt.data.JSON")
    return _run_script(python, build_spec(config, run, experts, manifest, tokenizer), run, experts, names)


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
